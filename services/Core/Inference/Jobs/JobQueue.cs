using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using MultiModal.Core.Errors;
using MultiModal.Core.Logging;

namespace MultiModal.Core.Inference.Jobs;

/// <summary>
/// A bounded FIFO of long jobs served one at a time by one dedicated worker thread, which makes every model call
/// (TorchSharp dispose scopes are thread-static, and one device is best fed one job at a time). Admission, deadlines,
/// cancellation, draining, counters and metrics are the fleet's one <see cref="RequestQueue{TRequest, TResult}"/>,
/// as for the batching queues; this class adds what a streaming job needs. Each job streams its events to its caller
/// through an unblocking buffer, so the worker never waits for the network: <see cref="JobQueued"/> on enqueue and on
/// every change of position, <see cref="JobProgress{TPreview}"/> per step and one <see cref="JobCompleted{TResult}"/>,
/// or the stream ends with the job's exception. Cancelling a waiting job (its caller's token or
/// <see cref="Job{TWork, TPreview, TResult}.Dispose"/>) takes it out of the queue at once; a running job sees its token
/// at its next step. A deadline that passes while the job waits ends it with DEADLINE_TOO_SHORT at once (the queues'
/// one contract); while it runs, it fires the job's token.
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
    private readonly RequestQueue<Job<TWork, TPreview, TResult>, JobCompleted<TResult>> _requests;

    // Guarded by the requests' gate.
    private Job<TWork, TPreview, TResult>? _running;
    // Learnt from finished jobs: wall seconds per unit of IJobWork.Cost (null until one finished).
    private double? _secondsPerCost;
    private ulong _itemsRun, _stepsRun;
    private long _lastId;

    /// <param name="options">Queue bounds.</param>
    /// <param name="run">
    /// Runs one job, synchronously, on the worker thread; reports steps through <see cref="RunningJob{TPreview}.Report"/>
    /// and throws <see cref="OperationCanceledException"/> once the job's token fires. Any other exception fails only
    /// that job; the queue goes on with the next.
    /// </param>
    /// <param name="logger">Job lifecycle events.</param>
    /// <param name="meterFactory">Creates the <c>MultiModal.Inference</c> meter; null makes a private one.</param>
    public JobQueue(JobQueueOptions options, Func<TWork, RunningJob<TPreview>, TResult> run, ILogger logger, IMeterFactory? meterFactory = null)
    {
        options.Validate();
        _options = options;
        _run = run;
        _logger = logger;
        _requests = new(
            new BatchingOptions { Name = options.Name, MaxQueueLength = options.MaxQueueLength, MaxBatchSize = 1, MaxWait = TimeSpan.Zero },
            static _ => 1, logger, meterFactory, new Observer(this));
        _requests.StartWorker("jobs", RunWorker);
    }

    /// <summary>Guards the waiting list, every job's state and position, and the counters.</summary>
    internal object Gate => _requests.Gate;

    public JobQueueStats Stats
    {
        get
        {
            lock (Gate)
            {
                var core = _requests.Stats;
                return new(core.RequestsAccepted, core.RequestsRejected, core.BatchesRun, _itemsRun,
                    _requests.Ended(QueueOutcome.Cancelled) + _requests.Ended(QueueOutcome.DeadlineExceeded),
                    _requests.Ended(QueueOutcome.Failed), _stepsRun, core.QueueDepth, _running is not null);
            }
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
        var job = new Job<TWork, TPreview, TResult>(this, Interlocked.Increment(ref _lastId), work, cancellationToken);
        Task<JobCompleted<TResult>> answer;
        try
        {
            answer = _requests.Enqueue(job, deadline, job.CancellationToken);
        }
        catch
        {
            job.DisposeUnqueued();
            throw;
        }
        if (answer.IsCanceled && job.Position < 0)
        {
            // The caller cancelled between the check above and the enqueue: it never joined the queue.
            job.DisposeUnqueued();
            throw new OperationCanceledException(cancellationToken);
        }
        CoreLog.JobQueued(_logger, _options.Name, job.Id);
        return job;
    }

    /// <summary>
    /// Answers every job that has not started with <paramref name="reason"/>, at once: their streams end with it. The
    /// running job goes on; later jobs are still admitted. Returns how many were answered.
    /// </summary>
    public int RejectWaiting(InferenceException reason) => _requests.RejectWaiting(reason);

    /// <summary>
    /// Stops the worker: waiting jobs fail with MODEL_NOT_READY at once, the running job is cancelled and stops at its
    /// next step before this returns.
    /// </summary>
    public void Dispose() => _requests.Dispose(stopRunning: () =>
    {
        Job<TWork, TPreview, TResult>? running;
        lock (Gate)
            running = _running;
        running?.CancelQuietly();
    });

    /// <summary>The job's current <see cref="JobQueued"/> while it waits; null once it left the queue.</summary>
    internal JobQueued? Heartbeat(Job<TWork, TPreview, TResult> job)
    {
        lock (Gate)
            return job.State == JobState.Waiting && job.Position >= 0 ? new JobQueued(job.Position, EstimateWait(job)) : null;
    }

    private void RunWorker()
    {
        var taken = new List<RequestQueue<Job<TWork, TPreview, TResult>, JobCompleted<TResult>>.Ticket>(1);
        while (_requests.WaitAndTake(1, taken))
        {
            foreach (var ticket in taken)
                Run(ticket);
            taken.Clear();
        }
    }

    private void Run(RequestQueue<Job<TWork, TPreview, TResult>, JobCompleted<TResult>>.Ticket ticket)
    {
        var job = ticket.Request;
        var queued = Stopwatch.GetElapsedTime(ticket.EnqueuedAt, ticket.StartedAt);
        CoreLog.JobStarted(_logger, _options.Name, job.Id, queued.TotalMilliseconds);
        _requests.RecordBatch(1, job.Work.Items);
        var running = new RunningJob<TPreview>(job.CancellationToken, ticket.StartedAt, job.Write,
            preview => job.AddPreview(preview, _options.MaxPendingPreviews));
        // The steps done when the token fired, so the log can say how many ran after it (0 or 1: the one in progress).
        var stepsAtCancel = -1;
        using var onCancel = job.CancellationToken.Register(() => Interlocked.CompareExchange(ref stepsAtCancel, running.StepsReported, -1));
        JobCompleted<TResult>? completed = null;
        Exception? failure = null;
        try
        {
            var result = _run(job.Work, running);
            var finishedAt = Stopwatch.GetTimestamp();
            completed = new JobCompleted<TResult>(result, queued, Stopwatch.GetElapsedTime(ticket.StartedAt, finishedAt),
                MonotonicClock.ToUtc(ticket.StartedAt), MonotonicClock.ToUtc(finishedAt));
        }
        catch (OperationCanceledException ex) when (job.CancellationToken.IsCancellationRequested)
        {
            failure = ex;
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        var ran = Stopwatch.GetElapsedTime(ticket.StartedAt);
        lock (Gate)
        {
            _running = null;
            _stepsRun += (ulong)running.StepsReported;
            if (completed is not null)
            {
                _itemsRun += (ulong)job.Work.Items;
                Learn(job.Work.Cost, ran);
            }
        }
        // Counted (above and by the ticket) before the caller can see the end of its stream.
        if (completed is not null)
            ticket.Succeed(completed);
        else if (failure is OperationCanceledException)
            ticket.Cancel();                    // cancelled, or DEADLINE_TOO_SHORT when its deadline passed
        else
            ticket.Fail(failure!);
        job.WorkerDone();

        switch (failure)
        {
            case null:
                CoreLog.JobCompleted(_logger, _options.Name, job.Id, job.Work.Items, running.StepsReported, ran.TotalMilliseconds, job.PreviewsDropped);
                break;
            case OperationCanceledException:
                // -1: the worker saw the token before its callback ran, i.e. at once.
                var atCancel = Volatile.Read(ref stepsAtCancel);
                CoreLog.JobCancelledWhileRunning(_logger, _options.Name, job.Id, running.StepsReported,
                    atCancel < 0 ? 0 : running.StepsReported - atCancel, ran.TotalMilliseconds);
                break;
            case InferenceException or Models.Errors.InputRejectedException:
                CoreLog.JobRejected(_logger, _options.Name, job.Id, failure.Message);
                break;
            default:
                CoreLog.JobFailed(_logger, _options.Name, job.Id, failure);
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

    // Gate held.
    private TimeSpan? EstimateWait(Job<TWork, TPreview, TResult> job)
    {
        if (_secondsPerCost is not { } rate)
            return null;
        var seconds = RunningRemaining(rate);
        foreach (var ahead in _requests.WaitingLocked.Select(t => t.Request).TakeWhile(j => j != job))
            seconds += ahead.Work.Cost * rate;
        return TimeSpan.FromSeconds(seconds);
    }

    // Gate held. Tells every waiting job whose position changed (a new job's first event is its position).
    private void UpdatePositions()
    {
        var rate = _secondsPerCost;
        var seconds = rate is { } r ? RunningRemaining(r) : 0;
        // Position: the jobs that start before it, the running one included.
        var position = _running is null ? 0 : 1;
        foreach (var job in _requests.WaitingLocked.Select(t => t.Request))
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

    // Gate held. The job starts now: its last queued event says position 0, unless it already did.
    private void Started(Job<TWork, TPreview, TResult> job, long startedAt)
    {
        job.Start(startedAt);
        _running = job;
        if (job.Position != 0)
        {
            job.Position = 0;
            job.Write(new JobQueued(0, _secondsPerCost is null ? null : TimeSpan.Zero));
        }
    }

    private void Ended(RequestQueue<Job<TWork, TPreview, TResult>, JobCompleted<TResult>>.Ticket ticket)
    {
        var job = ticket.Request;
        if (ticket.StartedAt == 0 && job.Position >= 0 && !ticket.Completion.Task.IsCompletedSuccessfully)
            CoreLog.JobLeftQueue(_logger, _options.Name, job.Id, ticket.Completion.Task.IsCanceled ? "cancelled" : ticket.Completion.Task.Exception!.InnerException!.Message);
        job.End(ticket.Completion.Task);
    }

    /// <summary>Keeps the jobs' positions and events in step with the shared admission core.</summary>
    private sealed class Observer(JobQueue<TWork, TPreview, TResult> queue)
        : IQueueObserver<Job<TWork, TPreview, TResult>, JobCompleted<TResult>>
    {
        public void WaitingChangedLocked() => queue.UpdatePositions();

        public void TakenLocked(RequestQueue<Job<TWork, TPreview, TResult>, JobCompleted<TResult>>.Ticket ticket) =>
            queue.Started(ticket.Request, ticket.StartedAt);

        public void DeadlinePassedWhileRunning(RequestQueue<Job<TWork, TPreview, TResult>, JobCompleted<TResult>>.Ticket ticket) =>
            ticket.Request.CancelQuietly();

        public void Completed(RequestQueue<Job<TWork, TPreview, TResult>, JobCompleted<TResult>>.Ticket ticket) => queue.Ended(ticket);
    }
}
