using MultiModal.Core.Inference;

namespace MultiModal.Vision.Backends;

/// <summary>
/// Answers a validated <see cref="VisionRequest"/>. Failures the client can act on are
/// <see cref="Core.Errors.InferenceException"/>s; cancellation (the call's token, which gRPC also fires at the
/// deadline) surfaces as <see cref="OperationCanceledException"/>.
/// </summary>
public interface IVisionBackend : IDisposable
{
    /// <summary>What GetModelInfo reports.</summary>
    VisionModelInfo ModelInfo { get; }

    /// <summary>Queue counters since start (all zero for a backend without a queue).</summary>
    ServingStatsSnapshot Stats { get; }

    /// <summary>
    /// Answers every request waiting in the backend's queue (not started yet) with <paramref name="reason"/> at once;
    /// returns how many (always 0 for a backend without a queue).
    /// </summary>
    int RejectWaiting(Core.Errors.InferenceException reason);

    /// <summary>
    /// Throws RESOURCE_EXHAUSTED (QUEUE_FULL) when a new request would be refused now, so the handler can refuse it
    /// before decoding its images; the backend checks again when the request arrives. No-op without a queue.
    /// </summary>
    void ShedIfFull()
    {
    }

    /// <summary>Generates the whole answer.</summary>
    /// <param name="deadline">The call's UTC deadline; <see cref="DateTime.MaxValue"/> when none.</param>
    Task<VisionResult> DescribeAsync(VisionRequest request, DateTime deadline, CancellationToken cancellationToken);

    /// <summary>
    /// Streams non-empty text deltas, then one final event with the finish reason and usage. The deltas concatenate
    /// to the text <see cref="DescribeAsync"/> returns for the same request.
    /// </summary>
    IAsyncEnumerable<VisionStreamEvent> DescribeStreamAsync(VisionRequest request, DateTime deadline, CancellationToken cancellationToken);
}
