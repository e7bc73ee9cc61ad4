using System.Diagnostics.Metrics;

namespace MultiModal.Diffusion;

/// <summary>
/// Meter <c>MultiModal.Diffusion</c>, tagged with the model's name: what only diffusion has, denoising steps. Queue
/// depth, job outcomes, waits and run times are the shared queue metrics (<see cref="Core.Inference.QueueInstruments"/>,
/// queue "diffusion").
/// </summary>
public sealed class DiffusionMetrics : IDisposable
{
    public const string MeterName = "MultiModal.Diffusion";

    private readonly Meter _meter;
    private readonly Counter<long> _steps;

    public DiffusionMetrics(string modelName)
    {
        _meter = new Meter(new MeterOptions(MeterName) { Tags = [new("model", modelName)] });
        _steps = _meter.CreateCounter<long>("multimodal.diffusion.steps", "{step}", "Denoising steps run, those of cancelled jobs included.");
    }

    public void StepRun() => _steps.Add(1);

    public void Dispose() => _meter.Dispose();
}
