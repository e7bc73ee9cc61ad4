using System.Diagnostics;

namespace MultiModal.Core.Inference.Jobs;

/// <summary>What the work function gets while it runs on the queue's worker thread: the job's token and a progress sink.</summary>
public sealed class RunningJob<TPreview> where TPreview : class
{
    private readonly Action<JobEvent> _write;
    private readonly Func<TPreview, PreviewSlot<TPreview>> _addPreview;
    private readonly long _startedAt;

    internal RunningJob(CancellationToken cancellationToken, long startedAt, Action<JobEvent> write, Func<TPreview, PreviewSlot<TPreview>> addPreview)
    {
        CancellationToken = cancellationToken;
        _startedAt = startedAt;
        _write = write;
        _addPreview = addPreview;
    }

    /// <summary>
    /// Fires when the caller cancels, its deadline passes, or the server shuts down: the work should stop at its next
    /// step by throwing <see cref="OperationCanceledException"/>.
    /// </summary>
    public CancellationToken CancellationToken { get; }

    private int _stepsReported;

    /// <summary>The last step reported (read from other threads too, e.g. when the token fires).</summary>
    public int StepsReported => Volatile.Read(ref _stepsReported);

    /// <summary>
    /// Reports a finished step, with its preview if one was made. Never blocks: the event is buffered for the caller
    /// (previews beyond the queue's bound replace the oldest untaken one).
    /// </summary>
    public void Report(int step, int totalSteps, TPreview? preview)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(step);
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, step);
        Volatile.Write(ref _stepsReported, step);
        var elapsed = Stopwatch.GetElapsedTime(_startedAt);
        var eta = elapsed / step * (totalSteps - step);
        _write(new JobProgress<TPreview>(step, totalSteps, elapsed, eta, preview is null ? null : _addPreview(preview)));
    }
}
