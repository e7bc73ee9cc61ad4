namespace MultiModal.Core.Inference;

/// <summary>
/// How a <see cref="BatchingQueue{TRequest, TResult}"/> or <see cref="ContinuousBatchingQueue{TRequest, TSequence, TResult}"/>
/// groups requests into forward passes. Bindable from configuration.
/// </summary>
public sealed record BatchingOptions
{
    /// <summary>Most items (texts, images) in one forward pass; a single larger request still runs, alone.</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>
    /// How long the first waiting request may wait for others to join its batch. Counted from when it was enqueued,
    /// so a request that already waited behind a running batch is not delayed further.
    /// </summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Most requests waiting (not running); one more is shed with RESOURCE_EXHAUSTED / QUEUE_FULL.</summary>
    public int MaxQueueLength { get; init; } = 256;

    /// <summary>Names the queue in logs, the worker thread and the metrics' <c>queue</c> tag; unique per process.</summary>
    public string Name { get; init; } = "inference";

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchSize, 1, nameof(MaxBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueueLength, 1, nameof(MaxQueueLength));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxWait, TimeSpan.Zero, nameof(MaxWait));
        ArgumentException.ThrowIfNullOrWhiteSpace(Name, nameof(Name));
    }
}
