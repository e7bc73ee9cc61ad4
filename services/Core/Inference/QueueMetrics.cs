using System.Diagnostics.Metrics;

namespace MultiModal.Core.Inference;

/// <summary>
/// Meter <c>MultiModal.Inference</c>, one per queue, tagged with the queue's name (<c>queue</c>; Prometheus:
/// <c>otel_scope_queue</c>): the same instruments for every queue of the fleet (CLIP's batches, Vision's sequences,
/// Diffusion's jobs), so dashboards and autoscalers read one set of names.
/// </summary>
internal sealed class QueueMetrics : IDisposable
{
    private static readonly double[] SecondsBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];

    private readonly Meter? _ownedMeter;
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _rejected, _requests;
    private readonly Histogram<double> _wait, _duration;

    public QueueMetrics(string queueName, Func<int> queueDepth, Func<int> running, IMeterFactory? meterFactory)
    {
        // The queue tag lives on the meter, so each queue gets its own meter (and its own gauges).
        var options = new MeterOptions(QueueInstruments.MeterName) { Tags = [new("queue", queueName)] };
        var meter = meterFactory?.Create(options) ?? (_ownedMeter = new Meter(options));

        meter.CreateObservableGauge(QueueInstruments.QueueDepth, queueDepth, "{request}", "Requests (jobs) waiting to start.");
        meter.CreateObservableGauge(QueueInstruments.Running, running, "{request}", "Requests (jobs) the worker took and has not answered yet.");
        _rejected = meter.CreateCounter<long>(QueueInstruments.Rejected, "{request}", "Requests shed before joining the queue, by reason (QUEUE_FULL).");
        _requests = meter.CreateCounter<long>(QueueInstruments.Requests, "{request}",
            "Accepted requests that ended, by outcome: completed, failed, cancelled, deadline_exceeded, drained.");
        _wait = meter.CreateHistogram<double>(QueueInstruments.Wait, "s", "Time from accepted to started.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _duration = meter.CreateHistogram<double>(QueueInstruments.Duration, "s", "Time from started to answered, by outcome.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _batchSize = meter.CreateHistogram(QueueInstruments.BatchSize, "{item}",
            "Items per forward pass (a job's items for a job queue).", tags: null,
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
    }

    public void BatchRun(int items) => _batchSize.Record(items);

    public void Rejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Started(TimeSpan waited) => _wait.Record(waited.TotalSeconds);

    /// <summary>An accepted request ended; <paramref name="ran"/> is null when it never started.</summary>
    public void Ended(QueueOutcome outcome, TimeSpan? ran)
    {
        var tag = new KeyValuePair<string, object?>("outcome", QueueOutcomes.ToTag(outcome));
        _requests.Add(1, tag);
        if (ran is { } r)
        {
            _duration.Record(r.TotalSeconds, tag);
        }
    }

    // Meters from an IMeterFactory belong to the factory; only a meter this class made itself is disposed here.
    public void Dispose() => _ownedMeter?.Dispose();
}
