namespace MultiModal.Core.Inference.Jobs;

/// <summary>What happened to a job, in the order its caller reads it: queued*, progress*, then one completed.</summary>
public abstract record JobEvent;

/// <summary>
/// The job waits. Sent on enqueue, when its position changes (a last time with position 0 as it starts, unless it was
/// already 0), and as a heartbeat while it waits.
/// </summary>
/// <param name="Position">Jobs that start before it, the running one included; 0 = it starts now.</param>
/// <param name="EstimatedWait">Time until it should start; null until the queue has timed a finished job.</param>
public sealed record JobQueued(int Position, TimeSpan? EstimatedWait) : JobEvent;

/// <summary>The running job reported a step.</summary>
/// <param name="Step">Completed steps, 1-based.</param>
/// <param name="TotalSteps">Steps the job runs.</param>
/// <param name="Elapsed">Time since the job started running.</param>
/// <param name="Eta">Estimated time until it finishes, from the mean step time so far.</param>
/// <param name="Preview">The preview of this step, if one was made; it may have been dropped since (see <see cref="PreviewSlot{T}"/>).</param>
public sealed record JobProgress<TPreview>(int Step, int TotalSteps, TimeSpan Elapsed, TimeSpan Eta, PreviewSlot<TPreview>? Preview)
    : JobEvent where TPreview : class;

/// <summary>The job finished; always the last event.</summary>
/// <param name="Result">What the work returned.</param>
/// <param name="Queued">Time spent waiting.</param>
/// <param name="Ran">Time spent running.</param>
/// <param name="StartedUtc">When it started running (server clock, <see cref="MonotonicClock"/>).</param>
/// <param name="FinishedUtc">When it finished; the next job starts no earlier.</param>
public sealed record JobCompleted<TResult>(TResult Result, TimeSpan Queued, TimeSpan Ran, DateTime StartedUtc, DateTime FinishedUtc) : JobEvent;

/// <summary>
/// Holds one preview until the caller takes it, or until the worker drops it because the caller fell behind: previews
/// are the only events that may be lost, so the worker never waits for the network.
/// </summary>
public sealed class PreviewSlot<T> where T : class
{
    private T? _value;

    public PreviewSlot(T value) => _value = value;

    /// <summary>True once taken or dropped.</summary>
    public bool IsEmpty => Volatile.Read(ref _value) is null;

    /// <summary>The preview, once; null when it was dropped (or already taken).</summary>
    public T? Take() => Interlocked.Exchange(ref _value, null);
}
