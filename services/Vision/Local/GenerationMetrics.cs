using System.Diagnostics;
using System.Diagnostics.Metrics;
using MultiModal.Models.Llava.Generation;

namespace MultiModal.Vision.Local;

/// <summary>
/// Meter <c>MultiModal.Vision</c>, tagged with the model's name: what users of an LLM server watch. Time to first token
/// (from the request's acceptance, so queueing and prefill included), mean time per output token after the first,
/// prompt and completion tokens, and generations by finish reason. Exported with the fleet's other meters (see
/// services/Telemetry).
/// </summary>
public sealed class GenerationMetrics : IDisposable
{
    public const string MeterName = "MultiModal.Vision";

    private readonly Meter _meter;
    private readonly Histogram<double> _timeToFirstToken, _timePerOutputToken;
    private readonly Counter<long> _tokens, _generations;

    public GenerationMetrics(string modelName)
    {
        _meter = new Meter(new MeterOptions(MeterName) { Tags = [new("model", modelName)] });
        _timeToFirstToken = _meter.CreateHistogram<double>("multimodal.vision.time_to_first_token", "s",
            "From the request's acceptance (queueing and prefill included) to its first generated token.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80] });
        _timePerOutputToken = _meter.CreateHistogram<double>("multimodal.vision.time_per_output_token", "s",
            "A generation's mean time between tokens after its first (generations of two tokens or more).", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2] });
        _tokens = _meter.CreateCounter<long>("multimodal.vision.tokens", "{token}",
            "Tokens of finished generations: kind=prompt (merged, image rows included) or completion.");
        _generations = _meter.CreateCounter<long>("multimodal.vision.generations", "{generation}",
            "Generations that ended, by finish_reason: stop, length, cancelled, failed.");
    }

    /// <summary>A generation ended with a result: its tokens, its finish reason, and its timings when it made tokens.</summary>
    /// <param name="acceptedAt">Stopwatch timestamp of the request's acceptance.</param>
    /// <param name="firstTokenAt">Stopwatch timestamp of its first token; null when it made none.</param>
    /// <param name="finishedAt">Stopwatch timestamp of its end.</param>
    public void Finished(GenerationResult result, long acceptedAt, long? firstTokenAt, long finishedAt)
    {
        _tokens.Add(result.Usage.PromptTokens, new KeyValuePair<string, object?>("kind", "prompt"));
        _tokens.Add(result.Usage.CompletionTokens, new KeyValuePair<string, object?>("kind", "completion"));
        _generations.Add(1, new KeyValuePair<string, object?>("finish_reason", result.FinishReason.ToString().ToLowerInvariant()));
        if (firstTokenAt is not { } first)
            return;
        _timeToFirstToken.Record(Stopwatch.GetElapsedTime(acceptedAt, first).TotalSeconds);
        if (result.Usage.CompletionTokens >= 2)
            _timePerOutputToken.Record(Stopwatch.GetElapsedTime(first, finishedAt).TotalSeconds / (result.Usage.CompletionTokens - 1));
    }

    /// <summary>A generation failed (its start or its own step threw).</summary>
    public void Failed() => _generations.Add(1, new KeyValuePair<string, object?>("finish_reason", "failed"));

    public void Dispose() => _meter.Dispose();
}
