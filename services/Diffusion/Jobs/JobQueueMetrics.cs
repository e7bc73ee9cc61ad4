using System.Diagnostics.Metrics;

namespace MultiModal.Diffusion.Jobs;

/// <summary>
/// Meter <c>MultiModal.Diffusion</c>, tagged with the queue's name: jobs waiting and running, how jobs ended, how long
/// they waited and ran, and denoising steps. Exported with the fleet's other meters (see services/Telemetry).
/// </summary>
internal sealed class JobQueueMetrics : IDisposable
{
    public const string MeterName = "MultiModal.Diffusion";

    private readonly Meter _meter;
    private readonly Counter<long> _jobs, _steps;
    private readonly Histogram<double> _wait, _duration;

    public JobQueueMetrics(string queueName, Func<int> queueDepth, Func<int> running)
    {
        _meter = new Meter(new MeterOptions(MeterName) { Tags = [new("queue", queueName)] });
        _meter.CreateObservableGauge("multimodal.diffusion.queue.depth", queueDepth, "{job}", "Jobs waiting to start.");
        _meter.CreateObservableGauge("multimodal.diffusion.jobs.running", running, "{job}", "Jobs running now (0 or 1).");
        _jobs = _meter.CreateCounter<long>("multimodal.diffusion.jobs", "{job}",
            "Jobs that ended, by outcome: completed, cancelled, failed, rejected (queue full).");
        _steps = _meter.CreateCounter<long>("multimodal.diffusion.steps", "{step}", "Denoising steps run, cancelled jobs included.");
        _wait = _meter.CreateHistogram<double>("multimodal.diffusion.job.wait", "s", "Time from accepted to started.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600] });
        _duration = _meter.CreateHistogram<double>("multimodal.diffusion.job.duration", "s", "Time a job ran, by outcome.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600] });
    }

    public void Started(TimeSpan waited) => _wait.Record(waited.TotalSeconds);

    public void Ended(string outcome, TimeSpan ran, int steps)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        _jobs.Add(1, tag);
        _duration.Record(ran.TotalSeconds, tag);
        _steps.Add(steps);
    }

    public void CancelledWhileWaiting() => _jobs.Add(1, new KeyValuePair<string, object?>("outcome", "cancelled"));

    public void Rejected() => _jobs.Add(1, new KeyValuePair<string, object?>("outcome", "rejected"));

    public void Dispose() => _meter.Dispose();
}
