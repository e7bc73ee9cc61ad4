namespace MultiModal.Core.Inference;

/// <summary>
/// The names of the metrics every queue of the fleet exports (meter <see cref="MeterName"/>, one meter per queue tagged
/// <c>queue</c>). The Prometheus exporter writes dots as underscores, appends the unit <c>_seconds</c> for "s" and
/// <c>_total</c> to counters, and turns the meter tag into the label <c>otel_scope_queue</c>: e.g.
/// <c>multimodal_inference_queue_depth{otel_scope_queue="diffusion"}</c>, which k8s/overlays/gpu/hpa-diffusion.yaml
/// scales on.
/// </summary>
public static class QueueInstruments
{
    public const string MeterName = "MultiModal.Inference";

    /// <summary>Gauge: requests (jobs) waiting to start.</summary>
    public const string QueueDepth = "multimodal.inference.queue.depth";

    /// <summary>Gauge: requests the worker took and has not answered yet.</summary>
    public const string Running = "multimodal.inference.running";

    /// <summary>Counter, by <c>reason</c>: requests shed before joining the queue (QUEUE_FULL).</summary>
    public const string Rejected = "multimodal.inference.rejected";

    /// <summary>Counter, by <c>outcome</c> (<see cref="QueueOutcome"/>): accepted requests that ended.</summary>
    public const string Requests = "multimodal.inference.requests";

    /// <summary>Histogram, seconds: from accepted to started.</summary>
    public const string Wait = "multimodal.inference.request.wait";

    /// <summary>Histogram, seconds, by <c>outcome</c>: from started to answered.</summary>
    public const string Duration = "multimodal.inference.request.duration";

    /// <summary>Histogram: items per forward pass (per job for a job queue).</summary>
    public const string BatchSize = "multimodal.inference.batch.size";

    /// <summary>Every instrument with its unit and kind, as created by each queue.</summary>
    public static readonly IReadOnlyList<(string Name, string Unit, string Kind)> All =
    [
        (QueueDepth, "{request}", "gauge"), (Running, "{request}", "gauge"),
        (Rejected, "{request}", "counter"), (Requests, "{request}", "counter"),
        (Wait, "s", "histogram"), (Duration, "s", "histogram"), (BatchSize, "{item}", "histogram"),
    ];
}
