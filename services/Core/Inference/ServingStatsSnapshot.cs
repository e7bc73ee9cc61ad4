using MultiModal.Contracts.Common.V1;

namespace MultiModal.Core.Inference;

/// <summary>Counters of one queue since the process started (see <c>ServingStats</c> in serving_stats.proto).</summary>
/// <param name="RequestsAccepted">Requests accepted into the queue.</param>
/// <param name="RequestsRejected">Requests shed with QUEUE_FULL.</param>
/// <param name="BatchesRun">Forward passes run, failed ones included.</param>
/// <param name="ItemsRun">Items processed in those passes.</param>
/// <param name="MaxRequestsInBatch">Largest number of requests served by one pass.</param>
/// <param name="QueueDepth">Requests waiting now.</param>
public readonly record struct ServingStatsSnapshot(
    ulong RequestsAccepted,
    ulong RequestsRejected,
    ulong BatchesRun,
    ulong ItemsRun,
    int MaxRequestsInBatch,
    int QueueDepth)
{
    /// <summary>Maps to the wire message that services return in their responses or status RPCs.</summary>
    public ServingStats ToWire() => new()
    {
        RequestsAccepted = RequestsAccepted,
        RequestsRejected = RequestsRejected,
        BatchesRun = BatchesRun,
        ItemsRun = ItemsRun,
        MaxRequestsInBatch = (uint)MaxRequestsInBatch,
        QueueDepth = (uint)QueueDepth,
    };
}
