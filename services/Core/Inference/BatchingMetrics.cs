using System.Diagnostics.Metrics;

namespace MultiModal.Core.Inference;

/// <summary>Meter <c>MultiModal.Inference</c>, tagged with the queue's name: depth, batch size and shed requests.</summary>
internal sealed class BatchingMetrics : IDisposable
{
    public const string MeterName = "MultiModal.Inference";

    private readonly Meter? _ownedMeter;
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _rejected;

    public BatchingMetrics(string queueName, Func<int> queueDepth, IMeterFactory? meterFactory)
    {
        // The queue tag lives on the meter, so each queue gets its own meter (and its own depth gauge).
        var options = new MeterOptions(MeterName) { Tags = [new("queue", queueName)] };
        var meter = meterFactory?.Create(options) ?? (_ownedMeter = new Meter(options));

        meter.CreateObservableGauge("multimodal.inference.queue.depth", queueDepth, "{request}",
            "Requests waiting for a forward pass.");
        _batchSize = meter.CreateHistogram("multimodal.inference.batch.size", "{item}",
            "Items per forward pass.", tags: null,
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        _rejected = meter.CreateCounter<long>("multimodal.inference.rejected", "{request}",
            "Requests shed before reaching the model.");
    }

    public void BatchRun(int items) => _batchSize.Record(items);

    public void Rejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    // Meters from an IMeterFactory belong to the factory; only a meter this class made itself is disposed here.
    public void Dispose() => _ownedMeter?.Dispose();
}
