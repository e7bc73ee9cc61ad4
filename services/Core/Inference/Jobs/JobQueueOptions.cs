namespace MultiModal.Core.Inference.Jobs;

/// <summary>Bounds of a <see cref="JobQueue{TWork, TPreview, TResult}"/>.</summary>
public sealed record JobQueueOptions
{
    /// <summary>Names the queue in logs and its worker thread.</summary>
    public string Name { get; init; } = "jobs";

    /// <summary>Jobs allowed to wait (the running one not counted); one more is shed with RESOURCE_EXHAUSTED / QUEUE_FULL.</summary>
    public int MaxQueueLength { get; init; } = 16;

    /// <summary>
    /// Previews a job may hold that its caller has not taken yet. A further preview drops the oldest one (its progress
    /// event still goes out, without the preview), so a slow client loses previews but never holds up the worker.
    /// </summary>
    public int MaxPendingPreviews { get; init; } = 2;

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Name, nameof(Name));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueueLength, 1, nameof(MaxQueueLength));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingPreviews, 1, nameof(MaxPendingPreviews));
    }
}
