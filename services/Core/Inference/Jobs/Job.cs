using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace MultiModal.Core.Inference.Jobs;

/// <summary>Where a job is in its life.</summary>
public enum JobState
{
    Waiting,
    Running,
    /// <summary>Completed, failed, or cancelled while running.</summary>
    Finished,
    /// <summary>Left the queue before it started (cancelled, deadline passed, drained, or the queue shut down).</summary>
    Removed,
}

/// <summary>
/// One caller's job: its events (read with <see cref="ReadEventsAsync"/>) and its cancellation. Disposing it — the
/// caller is done, e.g. its stream broke — cancels the job if it has not finished.
/// </summary>
public sealed class Job<TWork, TPreview, TResult> : IDisposable
    where TWork : IJobWork where TPreview : class
{
    private readonly JobQueue<TWork, TPreview, TResult> _queue;
    // The caller's token, the queue's shutdown and the deadline (while running) in one; disposed once neither the
    // caller nor the worker can still use it.
    private readonly CancellationTokenSource _cancellation;
    private readonly Channel<JobEvent> _events = Channel.CreateUnbounded<JobEvent>(new UnboundedChannelOptions { SingleReader = true });
    // Worker thread only: previews not taken by the caller yet, oldest first.
    private readonly Queue<PreviewSlot<TPreview>> _pendingPreviews = new();
    private bool _callerDone, _workerHasIt;
    private int _disposeCalled;

    internal Job(JobQueue<TWork, TPreview, TResult> queue, long id, TWork work, CancellationToken callerToken)
    {
        _queue = queue;
        Id = id;
        Work = work;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
        CancellationToken = _cancellation.Token;            // kept: Token throws once the source is disposed
    }

    /// <summary>Process-unique id, for logs.</summary>
    public long Id { get; }

    public TWork Work { get; }

    /// <summary>Fires when the caller cancels, its deadline passes, it disposes the job, or the queue shuts down.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Guarded by the queue's gate.</summary>
    public JobState State { get; private set; }

    /// <summary>While it waits: the running job and those waiting in front of it; 0 once it starts (guarded by the queue's gate).</summary>
    internal int Position { get; set; } = -1;

    /// <summary>When the worker took it (Stopwatch timestamp), 0 before.</summary>
    internal long StartedAt { get; private set; }

    /// <summary>Previews dropped because the caller read too slowly.</summary>
    public int PreviewsDropped { get; private set; }

    /// <summary>
    /// The job's events until its <see cref="JobCompleted{TResult}"/>; throws what the job failed with
    /// (<see cref="OperationCanceledException"/> when cancelled, an <see cref="Errors.InferenceException"/>
    /// DEADLINE_TOO_SHORT when its deadline passed while it waited). While the job waits and nothing else happens,
    /// repeats its <see cref="JobQueued"/> every <paramref name="heartbeat"/> (zero: never) so that proxies keep the
    /// stream open.
    /// </summary>
    public async IAsyncEnumerable<JobEvent> ReadEventsAsync(TimeSpan heartbeat, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = _events.Reader;
        while (true)
        {
            while (reader.TryRead(out var e))
                yield return e;
            switch (await WaitAsync(reader, heartbeat, cancellationToken))
            {
                case Wake.Done:
                    yield break;
                case Wake.Heartbeat when _queue.Heartbeat(this) is { } queued:
                    yield return queued;
                    break;
            }
        }
    }

    private enum Wake { Ready, Done, Heartbeat }

    private async Task<Wake> WaitAsync(ChannelReader<JobEvent> reader, TimeSpan heartbeat, CancellationToken cancellationToken)
    {
        if (heartbeat <= TimeSpan.Zero)
            return await reader.WaitToReadAsync(cancellationToken) ? Wake.Ready : Wake.Done;
        using var beat = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        beat.CancelAfter(heartbeat);
        try
        {
            // A channel completed with an exception rethrows it here.
            return await reader.WaitToReadAsync(beat.Token) ? Wake.Ready : Wake.Done;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && beat.IsCancellationRequested)
        {
            return Wake.Heartbeat;
        }
    }

    /// <summary>The caller is done with the job: cancels it unless it already finished (a waiting job leaves the queue).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposeCalled, 1) == 1)
            return;
        // The source is never disposed before this point (see WorkerDone), so this cannot throw ObjectDisposedException.
        _cancellation.Cancel();
        bool inUse;
        lock (_queue.Gate)
        {
            _callerDone = true;
            inUse = _workerHasIt;
        }
        // While it runs the worker still reads the token; WorkerDone disposes the source then.
        if (!inUse)
            _cancellation.Dispose();
    }

    /// <summary>Cancels without throwing if the caller already disposed the job (shutdown and deadline paths).</summary>
    internal void CancelQuietly()
    {
        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>The worker took the job (queue's gate held).</summary>
    internal void Start(long startedAt)
    {
        State = JobState.Running;
        StartedAt = startedAt;
        _workerHasIt = true;
    }

    /// <summary>The worker is done with the job's token.</summary>
    internal void WorkerDone()
    {
        bool callerDone;
        lock (_queue.Gate)
        {
            _workerHasIt = false;
            callerDone = _callerDone;
        }
        if (callerDone)
            _cancellation.Dispose();
    }

    /// <summary>
    /// Its queue ticket was answered: ends the events with the <see cref="JobCompleted{TResult}"/>, or with what the job
    /// failed with. A job that never started is <see cref="JobState.Removed"/>.
    /// </summary>
    internal void End(Task<JobCompleted<TResult>> answer)
    {
        lock (_queue.Gate)
            State = StartedAt == 0 ? JobState.Removed : JobState.Finished;
        if (answer.IsCompletedSuccessfully)
        {
            _events.Writer.TryWrite(answer.Result);
            _events.Writer.TryComplete();
        }
        else if (answer.IsCanceled)
        {
            _events.Writer.TryComplete(new OperationCanceledException(
                StartedAt == 0 ? "The job was cancelled while it waited." : "The job was cancelled while it ran.", CancellationToken));
        }
        else
        {
            _events.Writer.TryComplete(answer.Exception!.InnerException);
        }
    }

    /// <summary>The caller was never queued (shed or refused): releases the token source.</summary>
    internal void DisposeUnqueued()
    {
        Interlocked.Exchange(ref _disposeCalled, 1);
        _cancellation.Dispose();
    }

    internal void Write(JobEvent e) => _events.Writer.TryWrite(e);

    /// <summary>Worker thread: wraps a new preview, dropping the oldest untaken ones beyond <paramref name="maxPending"/>.</summary>
    internal PreviewSlot<TPreview> AddPreview(TPreview preview, int maxPending)
    {
        while (_pendingPreviews.TryPeek(out var oldest) && oldest.IsEmpty)
            _pendingPreviews.Dequeue();
        while (_pendingPreviews.Count >= maxPending)
            if (_pendingPreviews.Dequeue().Take() is not null)
                PreviewsDropped++;
        var slot = new PreviewSlot<TPreview>(preview);
        _pendingPreviews.Enqueue(slot);
        return slot;
    }
}
