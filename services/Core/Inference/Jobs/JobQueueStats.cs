using MultiModal.Core.Inference;

namespace MultiModal.Core.Inference.Jobs;

/// <summary>Counters of a <see cref="JobQueue{TWork, TPreview, TResult}"/> since it was created.</summary>
/// <param name="Accepted">Jobs accepted into the queue.</param>
/// <param name="Rejected">Jobs shed with QUEUE_FULL.</param>
/// <param name="JobsRun">Jobs started, whatever their outcome.</param>
/// <param name="ItemsRun">Items (images) of the jobs that completed.</param>
/// <param name="Cancelled">Jobs stopped by their caller, their deadline or shutdown, while waiting or running.</param>
/// <param name="Failed">Jobs whose work threw.</param>
/// <param name="StepsRun">Steps reported by all jobs, cancelled ones included.</param>
/// <param name="QueueDepth">Jobs waiting now.</param>
/// <param name="Running">Whether a job runs now.</param>
public readonly record struct JobQueueStats(
    ulong Accepted, ulong Rejected, ulong JobsRun, ulong ItemsRun, ulong Cancelled, ulong Failed, ulong StepsRun,
    int QueueDepth, bool Running)
{
    /// <summary>As the fleet's common counters: one job per "batch".</summary>
    public ServingStatsSnapshot ToServingStats() =>
        new(Accepted, Rejected, JobsRun, ItemsRun, JobsRun > 0 ? 1 : 0, QueueDepth);
}
