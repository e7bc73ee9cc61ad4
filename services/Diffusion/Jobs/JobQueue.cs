using System.Diagnostics;
using MultiModal.Core.Errors;

namespace MultiModal.Diffusion.Jobs;

/// <summary>
/// A bounded FIFO of long jobs served one at a time by one dedicated worker thread, which makes every model call
/// (TorchSharp dispose scopes are thread-static, and one device is best fed one job at a time). Each job streams its
/// events to its caller through an unblocking buffer, so the worker never waits for the network: it writes
/// <see cref="JobQueued"/> on enqueue and on every change of position, <see cref="JobProgress{TPreview}"/> per step and
/// one <see cref="JobCompleted{TResult}"/>, or ends the stream with the job's exception. Cancelling a waiting job
/// (its caller's token, deadline or <see cref="Job{TWork, TPreview, TResult}.Dispose"/>) takes it out of the queue at
/// once; a running job sees its token at its next step.
/// </summary>
/// <remarks>
/// The event buffer is unbounded in count but not in size: a job writes at most one queued event per position it
/// passes and one progress event per step, and holds at most <see cref="JobQueueOptions.MaxPendingPreviews"/> previews.
/// </remarks>
public sealed class JobQueue<TWork, TPreview, TResult> : IDisposable
    where TWork : IJobWork where TPreview : class
{
    private const double EstimateSmoothing = 0.3;

    private readonly JobQueueOptions _options;
    private readonly Func<TWork, RunningJob<TPreview>, TResult> _run;
    private readonly ILogger _logger;
    private readonly Thread _worker;
    private readonly JobQueueMetrics _metrics;

    private readonly LinkedList<Job<TWork, TPreview, TResult>> _waiting = new();
    private Job<TWork, TPreview, TResult>? _running;
    private bool _disposed;
    private long _lastId;
    // Learnt from finished jobs: wall seconds per unit of IJobWork.Cost (null until one finished).
    private double? _secondsPerCost;
    private ulong _accepted, _rejected, _jobsRun, _itemsRun, _cancelled, _failed, _stepsRun;

    /// <param name="options">Queue bounds.</param>
    /// <param name="run">
    /// Runs one job, synchronously, on the worker thread; reports steps through <see cref="RunningJob{TPreview}.Report"/>
    /// and throws <see cref="OperationCanceledException"/> once the job's token fires. Any other exception fails only
    /// that job; the queue goes on with the next.
    /// </param>
    /// <param name="logger">Job lifecycle events.</param>
    public JobQueue(JobQueueOptions options, Func<TWork, RunningJob<TPreview>, TResult> run, ILogger logger)
    {
        options.Validate();
        _options = options;
        _run = run;
        _logger = logger;
        _metrics = new JobQueueMetrics(options.Name, () => { lock (Gate) return _waiting.Count; }, () => { lock (Gate) return _running is null ? 0 : 1; });
        _worker = new Thread(RunWorker) { IsBackground = true, Name = $"{options.Name} jobs" };
        _worker.Start();
    }

    /// <summary>Guards the waiting list, every job's state and position, and the counters.</summary>
    internal object Gate { get; } = new();

    public JobQueueStats Stats
    {
        get
        {
            lock (Gate)
                return new(_accepted, _rejected, _jobsRun, _itemsRun, _cancelled, _failed, _stepsRun, _waiting.Count, _running is not null);
        }
    }

    /// <summary>
    /// Queues <paramref name="work"/>; its first event is a <see cref="JobQueued"/>. Throws <see cref="InferenceException"/>
    /// QUEUE_FULL when <see cref="JobQueueOptions.MaxQueueLength"/> jobs already wait, DEADLINE_TOO_SHORT when the
    /// deadline already passed, MODEL_NOT_READY after Dispose; <see cref="OperationCanceledException"/> when the token
    /// already fired.
    /// </summary>
    /// <param name="deadline">UTC deadline (gRPC's <c>ServerCallContext.Deadline</c>); null or MaxValue for none.</param>
    /// <param name="cancellationToken">The caller's token; cancels the job while it waits or runs.</param>
    public Job<TWork, TPreview, TResult> Enqueue(TWork work, DateTime? deadline, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var due = deadline ?? DateTime.MaxValue;
        if (due != DateTime.MaxValue && due <= DateTime.UtcNow)
            throw InferenceException.DeadlineTooShort();

        Job<TWork, TPreview, TResult>? job = null;
        var position = 0;
        lock (Gate)
        {
            if (_disposed)
                throw InferenceException.ModelNotReady();
            if (_waiting.Count >= _options.MaxQueueLength)
            {
                _rejected++;
            }
            else
            {
                job = new Job<TWork, TPreview, TResult>(this, ++_lastId, work, due, cancellationToken);
                job.Node = _waiting.AddLast(job);
                job.Position = Ahead(_waiting.Count - 1);
                position = job.Position;
                job.Write(new JobQueued(position, EstimateWait(job)));
                _accepted++;
                Monitor.Pulse(Gate);
            }
        }
        if (job is null)
        {
            DiffusionLog.QueueFull(_logger, _options.Name, _options.MaxQueueLength);
            _metrics.Rejected();
            throw InferenceException.QueueFull(_options.MaxQueueLength);
        }
        DiffusionLog.JobQueued(_logger, job.Id, position);

        // After the job is visible: a token that fired in between runs the callback right here.
        job.Registration = job.CancellationToken.UnsafeRegister(_ => OnCancelled(job), null);
        return job;
    }

    /// <summary>
    /// Ends every job waiting now (not yet started) with <paramref name="reason"/> at once, e.g. DRAINING when the
    /// server shuts down; the running job goes on and the queue keeps admitting. Returns how many were ended.
    /// </summary>
    public int RejectWaiting(InferenceException reason)
    {
        lock (Gate)
        {
            var count = _waiting.Count;
            foreach (var job in _waiting)
            {
                job.Node = null;
                job.Remove(reason);
            }
            _waiting.Clear();
            return count;
        }
    }

    /// <summary>
    /// Stops the worker: waiting jobs fail with MODEL_NOT_READY at once, the running job is cancelled and stops at its
    /// next step before this returns.
    /// </summary>
    public void Dispose()
    {
        Job<TWork, TPreview, TResult>? running;
        lock (Gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            foreach (var job in _waiting)
            {
                job.Node = null;
                job.Remove(InferenceException.ModelNotReady());
            }
            _waiting.Clear();
            running = _running;
            Monitor.PulseAll(Gate);
        }
        running?.CancelQuietly();
        if (Thread.CurrentThread != _worker)
            _worker.Join();
        _metrics.Dispose();
    }

    /// <summary>The job's current <see cref="JobQueued"/> while it waits; null once it left the queue.</summary>
    internal JobQueued? Heartbeat(Job<TWork, TPreview, TResult> job)
    {
        lock (Gate)
            return job.State == JobState.Waiting ? new JobQueued(job.Position, EstimateWait(job)) : null;
    }

    /// <summary>Takes a waiting job out of the queue and ends its events with <paramref name="reason"/>. Gate held.</summary>
    internal bool RemoveIfWaiting(Job<TWork, TPreview, TResult> job, Exception reason)
    {
        if (job.State != JobState.Waiting || job.Node is null)
            return false;
        _waiting.Remove(job.Node);
        job.Node = null;
        job.Remove(reason);
        _cancelled++;
        _metrics.CancelledWhileWaiting();
        UpdatePositions();
        return true;
    }

    private void OnCancelled(Job<TWork, TPreview, TResult> job)
    {
        bool removed;
        lock (Gate)
            removed = RemoveIfWaiting(job, new OperationCanceledException("The job was cancelled while it waited.", job.CancellationToken));
        if (removed)
            DiffusionLog.JobCancelledWhileWaiting(_logger, job.Id);
    }

    private void RunWorker()
    {
        while (TakeNext() is { } job)
            Run(job);
    }

    private Job<TWork, TPreview, TResult>? TakeNext()
    {
        lock (Gate)
        {
            while (true)
            {
                if (_disposed)
                    return null;
                if (_waiting.First is { } first)
                {
                    var job = first.Value;
                    _waiting.RemoveFirst();
                    job.Node = null;
                    job.State = JobState.Running;
                    job.StartedAt = Stopwatch.GetTimestamp();
                    _running = job;
                    _jobsRun++;
                    if (job.Position != 0)
                    {
                        // Its last queued event: 0 = starting now.
                        job.Position = 0;
                        job.Write(new JobQueued(0, _secondsPerCost is null ? null : TimeSpan.Zero));
                    }
                    UpdatePositions();
                    return job;
                }
                Monitor.Wait(Gate);
            }
        }
    }

    private void Run(Job<TWork, TPreview, TResult> job)
    {
        var queued = Stopwatch.GetElapsedTime(job.EnqueuedAt, job.StartedAt);
        DiffusionLog.JobStarted(_logger, job.Id, queued.TotalMilliseconds);
        _metrics.Started(queued);
        var running = new RunningJob<TPreview>(job.CancellationToken, job.StartedAt, job.Write,
            preview => job.AddPreview(preview, _options.MaxPendingPreviews));
        // The steps done when the token fired, so the log can say how many ran after it (0 or 1: the one in progress).
        var stepsAtCancel = -1;
        using var onCancel = job.CancellationToken.Register(() => Interlocked.CompareExchange(ref stepsAtCancel, running.StepsReported, -1));
        Exception? failure = null;
        try
        {
            var result = _run(job.Work, running);
            var finishedAt = Stopwatch.GetTimestamp();
            job.Write(new JobCompleted<TResult>(result, queued, Stopwatch.GetElapsedTime(job.StartedAt, finishedAt),
                MonotonicClock.ToUtc(job.StartedAt), MonotonicClock.ToUtc(finishedAt)));
        }
        catch (OperationCanceledException) when (job.CancellationToken.IsCancellationRequested)
        {
            failure = new OperationCanceledException("The job was cancelled while it ran.", job.CancellationToken);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        var ran = Stopwatch.GetElapsedTime(job.StartedAt);
        lock (Gate)
        {
            _running = null;
            _stepsRun += (ulong)running.StepsReported;
            if (failure is null)
            {
                _itemsRun += (ulong)job.Work.Items;
                Learn(job.Work.Cost, ran);
            }
            else if (failure is OperationCanceledException)
            {
                _cancelled++;
            }
            else
            {
                _failed++;
            }
        }
        job.Registration.Unregister();
        job.Finish(failure);
        _metrics.Ended(failure switch { null => "completed", OperationCanceledException => "cancelled", _ => "failed" }, ran, running.StepsReported);

        switch (failure)
        {
            case null:
                DiffusionLog.JobCompleted(_logger, job.Id, job.Work.Items, running.StepsReported, ran.TotalMilliseconds, job.PreviewsDropped);
                break;
            case OperationCanceledException:
                // -1: the worker saw the token before its callback ran, i.e. at once.
                var atCancel = Volatile.Read(ref stepsAtCancel);
                DiffusionLog.JobCancelledWhileRunning(_logger, job.Id, running.StepsReported,
                    atCancel < 0 ? 0 : running.StepsReported - atCancel, ran.TotalMilliseconds);
                break;
            case InferenceException or Models.Errors.InputRejectedException:
                DiffusionLog.JobRejected(_logger, job.Id, failure.Message);
                break;
            default:
                DiffusionLog.JobFailed(_logger, job.Id, failure);
                break;
        }
    }

    private void Learn(double cost, TimeSpan ran)
    {
        if (cost <= 0)
            return;
        var observed = ran.TotalSeconds / cost;
        _secondsPerCost = _secondsPerCost is { } old ? old + EstimateSmoothing * (observed - old) : observed;
    }

    // Gate held. Seconds until the running job ends, by its cost; 0 when none runs.
    private double RunningRemaining(double secondsPerCost) => _running is { } r
        ? Math.Max(0, r.Work.Cost * secondsPerCost - Stopwatch.GetElapsedTime(r.StartedAt).TotalSeconds)
        : 0;

    // Gate held. Position of the waiting job at this index: the jobs that start before it, the running one included.
    private int Ahead(int index) => index + (_running is null ? 0 : 1);

    // Gate held.
    private TimeSpan? EstimateWait(Job<TWork, TPreview, TResult> job)
    {
        if (_secondsPerCost is not { } rate)
            return null;
        var seconds = RunningRemaining(rate);
        foreach (var ahead in _waiting.TakeWhile(j => j != job))
            seconds += ahead.Work.Cost * rate;
        return TimeSpan.FromSeconds(seconds);
    }

    // Gate held. Tells every waiting job whose position changed.
    private void UpdatePositions()
    {
        var rate = _secondsPerCost;
        var seconds = rate is { } r ? RunningRemaining(r) : 0;
        var position = Ahead(0);
        foreach (var job in _waiting)
        {
            if (job.Position != position)
            {
                job.Position = position;
                job.Write(new JobQueued(position, rate is null ? null : TimeSpan.FromSeconds(seconds)));
            }
            seconds += job.Work.Cost * (rate ?? 0);
            position++;
        }
    }
}
