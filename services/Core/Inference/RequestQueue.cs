using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using MultiModal.Contracts.Common.V1;
using MultiModal.Core.Errors;
using MultiModal.Core.Logging;

namespace MultiModal.Core.Inference;

/// <summary>
/// The one admission core of the fleet, shared by <see cref="BatchingQueue{TRequest, TResult}"/>,
/// <see cref="ContinuousBatchingQueue{TRequest, TSequence, TResult}"/> and the streaming
/// <see cref="Jobs.JobQueue{TWork, TPreview, TResult}"/>: a bounded FIFO of waiting requests (QUEUE_FULL beyond it),
/// cancellation and deadlines while waiting, draining, the serving counters and the metrics
/// (<see cref="QueueInstruments"/>), and the one worker thread a queue runs its model calls on. What the worker does
/// with the requests it takes is the owning queue's business.
/// </summary>
/// <remarks>
/// The deadline contract, the same for every queue: a request whose deadline passes while it waits leaves the queue at
/// once and fails with <see cref="InferenceException.DeadlineTooShort"/> (DEADLINE_EXCEEDED / DEADLINE_TOO_SHORT),
/// also when its cancellation token fires because of that deadline (gRPC cancels a call's token at its deadline); it
/// never runs. Outcome <see cref="QueueOutcome.DeadlineExceeded"/>.
/// </remarks>
internal sealed partial class RequestQueue<TRequest, TResult> : IDisposable
{
    private readonly BatchingOptions _options;
    private readonly Func<TRequest, int> _sizeOf;
    private readonly ILogger _logger;
    private readonly QueueMetrics _metrics;
    private readonly IQueueObserver<TRequest, TResult>? _observer;
    private Thread? _worker;

    // Guards everything below. A plain object (not System.Threading.Lock) because the worker sleeps on Monitor.Wait.
    private readonly object _gate = new();
    private readonly LinkedList<Ticket> _waiting = new();
    private int _waitingItems, _running;
    private bool _disposed;
    private ulong _accepted, _rejected, _batches, _items;
    private readonly ulong[] _outcomes = new ulong[Enum.GetValues<QueueOutcome>().Length];
    private int _maxRequestsInBatch;

    /// <param name="options">Validated here: queue bound, MaxWait and the name used in logs and metrics.</param>
    /// <param name="sizeOf">Items in a request, weighed against the <c>maxItems</c> of the take methods.</param>
    /// <param name="logger">Receives shed (Warning) and skipped-request (Debug) events.</param>
    /// <param name="meterFactory">Creates the <c>MultiModal.Inference</c> meter; null makes a private one.</param>
    /// <param name="observer">Told of changes to the waiting list and of answered tickets; null for none.</param>
    public RequestQueue(
        BatchingOptions options, Func<TRequest, int> sizeOf, ILogger logger, IMeterFactory? meterFactory,
        IQueueObserver<TRequest, TResult>? observer = null)
    {
        options.Validate();
        _options = options;
        _sizeOf = sizeOf;
        _logger = logger;
        _observer = observer;
        _metrics = new QueueMetrics(options.Name, () => QueueDepth, () => Volatile.Read(ref _running), meterFactory);
    }

    /// <summary>The queue's name (logs, metrics, worker thread).</summary>
    public string Name => _options.Name;

    /// <summary>Guards the waiting list; owners may take it to read a consistent state (Monitor is reentrant).</summary>
    public object Gate => _gate;

    /// <summary>Waiting tickets, oldest first. Gate held.</summary>
    public IEnumerable<Ticket> WaitingLocked => _waiting;

    /// <summary>Counters since the queue was created.</summary>
    public ServingStatsSnapshot Stats
    {
        get
        {
            lock (_gate)
            {
                return new(_accepted, _rejected, _batches, _items, _maxRequestsInBatch, _waiting.Count);
            }
        }
    }

    /// <summary>Accepted requests that ended with <paramref name="outcome"/>. Gate held or not.</summary>
    public ulong Ended(QueueOutcome outcome)
    {
        lock (_gate)
        {
            return _outcomes[(int)outcome];
        }
    }

    /// <summary>Requests waiting now (not counting those the worker took).</summary>
    public int QueueDepth
    {
        get
        {
            lock (_gate)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>Starts the worker thread, named after the queue and <paramref name="role"/>; called once, by the owner.</summary>
    public void StartWorker(string role, Action run)
    {
        _worker = new Thread(() => run()) { IsBackground = true, Name = $"{_options.Name} {role}" };
        _worker.Start();
    }

    /// <summary>
    /// Queues <paramref name="request"/>; its task completes when the owner succeeds or fails its ticket. Throws
    /// <see cref="InferenceException"/> QUEUE_FULL when <see cref="BatchingOptions.MaxQueueLength"/> requests already
    /// wait, DEADLINE_TOO_SHORT when <paramref name="deadline"/> already passed, MODEL_NOT_READY after Dispose.
    /// The task is cancelled as soon as <paramref name="cancellationToken"/> is, and fails with DEADLINE_TOO_SHORT as
    /// soon as the deadline passes while it waits; either way the worker never takes it.
    /// </summary>
    public Task<TResult> Enqueue(TRequest request, DateTime? deadline, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult>(cancellationToken);
        }
        var ticket = new Ticket(this, request, SizeOf(request), deadline ?? DateTime.MaxValue, cancellationToken);
        if (ticket.IsExpired(DateTime.UtcNow))
        {
            throw InferenceException.DeadlineTooShort();
        }

        lock (_gate)
        {
            if (_disposed)
            {
                throw InferenceException.ModelNotReady();
            }
            if (_waiting.Count >= _options.MaxQueueLength)
            {
                _rejected++;
                ticket = null;
            }
            else
            {
                ticket.Node = _waiting.AddLast(ticket);
                _waitingItems += ticket.Size;
                _accepted++;
                _observer?.WaitingChangedLocked();
                Monitor.Pulse(_gate);
            }
        }

        if (ticket is null)
        {
            _metrics.Rejected(ErrorReasons.ToWire(ErrorReason.QueueFull));
            CoreLog.QueueFull(_logger, _options.Name, _options.MaxQueueLength);
            throw InferenceException.QueueFull(_options.MaxQueueLength);
        }

        // Registered after the request is visible to the worker: if the token fires (or the deadline passes) in
        // between, the callback still finds it.
        ticket.Watch();
        return ticket.Completion.Task;
    }

    /// <summary>
    /// Admission fast path for handlers whose preparation is costly (decoding images): throws QUEUE_FULL, counted and
    /// logged as <see cref="Enqueue"/> does, when <see cref="BatchingOptions.MaxQueueLength"/> requests already wait,
    /// so a call that would be shed is shed before its work is done. Advisory: <see cref="Enqueue"/> checks again.
    /// </summary>
    public void ThrowIfFull()
    {
        lock (_gate)
        {
            if (_disposed || _waiting.Count < _options.MaxQueueLength)
            {
                return;
            }
            _rejected++;
        }
        _metrics.Rejected(ErrorReasons.ToWire(ErrorReason.QueueFull));
        CoreLog.QueueFull(_logger, _options.Name, _options.MaxQueueLength);
        throw InferenceException.QueueFull(_options.MaxQueueLength);
    }

    /// <summary>
    /// Worker side: blocks until requests wait, then lets others join until <paramref name="maxItems"/> items wait or
    /// the oldest has waited <see cref="BatchingOptions.MaxWait"/>, and takes them as <see cref="TakeReady"/> does.
    /// False once disposed (nothing is waiting then).
    /// </summary>
    public bool WaitAndTake(int maxItems, List<Ticket> taken, Func<TRequest, bool>? admit = null)
    {
        List<Ticket>? dead = null;
        lock (_gate)
        {
            while (true)
            {
                if (_disposed)
                {
                    return false;
                }
                if (_waiting.First is not { } first)
                {
                    Monitor.Wait(_gate);
                    continue;
                }

                // Counted from when the oldest was enqueued, so a request that already waited is not delayed further.
                var waitMs = _options.MaxWait.TotalMilliseconds - Stopwatch.GetElapsedTime(first.Value.EnqueuedAt).TotalMilliseconds;
                if (_waitingItems < maxItems && waitMs > 0)
                {
                    // Ceiling: Monitor.Wait rounds down, and a 0 ms wait would spin.
                    Monitor.Wait(_gate, (int)Math.Ceiling(waitMs));
                    continue;
                }
                break;
            }
            TakeLocked(maxItems, taken, admit, ref dead);
        }
        Skip(dead);
        return true;
    }

    /// <summary>
    /// Worker side, without blocking: takes waiting requests from the front while their items fit in
    /// <paramref name="maxItems"/>; the first is always taken so an oversized request still runs (alone). A live request
    /// that <paramref name="admit"/> refuses stops the taking there (FIFO: nothing behind it jumps ahead); admit is
    /// called under the queue's lock, once per request it accepts. Requests already cancelled or past their deadline
    /// are completed as such and not taken.
    /// </summary>
    public void TakeReady(int maxItems, List<Ticket> taken, Func<TRequest, bool>? admit = null)
    {
        List<Ticket>? dead = null;
        lock (_gate)
        {
            TakeLocked(maxItems, taken, admit, ref dead);
        }
        Skip(dead);
    }

    /// <summary>
    /// Counts one forward pass (failed ones too; a job for a job queue) in the stats and the batch-size histogram;
    /// returns how many requests wait now, for the owner's log line.
    /// </summary>
    public int RecordBatch(int requests, int items)
    {
        int waiting;
        lock (_gate)
        {
            _batches++;
            _items += (ulong)items;
            _maxRequestsInBatch = Math.Max(_maxRequestsInBatch, requests);
            waiting = _waiting.Count;
        }
        _metrics.BatchRun(items);
        return waiting;
    }

    /// <summary>
    /// Answers every request that has not started with <paramref name="reason"/>, at once (outcome
    /// <see cref="QueueOutcome.Drained"/>); requests already taken by the worker go on, and new ones are still admitted
    /// (stopping admission is the caller's business, e.g. readiness). Returns how many were answered.
    /// </summary>
    public int RejectWaiting(InferenceException reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        List<Ticket> orphans;
        lock (_gate)
        {
            orphans = DetachWaitingLocked();
        }
        foreach (var t in orphans)
        {
            t.Drain(reason);
        }
        return orphans.Count;
    }

    /// <summary>
    /// Stops admitting: requests still waiting fail with MODEL_NOT_READY at once and the worker's take methods find
    /// nothing more; runs <paramref name="stopRunning"/> (e.g. cancel a running job), then waits for the worker to
    /// finish what it took (unless called on the worker itself). Idempotent; a second call returns at once.
    /// </summary>
    public void Dispose(Action? stopRunning)
    {
        List<Ticket> orphans;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            orphans = DetachWaitingLocked();
            Monitor.PulseAll(_gate);
        }

        foreach (var t in orphans)
        {
            t.Drain(InferenceException.ModelNotReady());
        }
        stopRunning?.Invoke();
        if (_worker is not null && Thread.CurrentThread != _worker)
        {
            _worker.Join();
        }
        _metrics.Dispose();
    }

    public void Dispose() => Dispose(stopRunning: null);

    private List<Ticket> DetachWaitingLocked()
    {
        List<Ticket> orphans = [.. _waiting];
        foreach (var t in orphans)
        {
            t.Node = null;
        }
        _waiting.Clear();
        _waitingItems = 0;
        if (orphans.Count > 0)
        {
            _observer?.WaitingChangedLocked();
        }
        return orphans;
    }

    private int SizeOf(TRequest request)
    {
        var size = _sizeOf(request);
        ArgumentOutOfRangeException.ThrowIfNegative(size, "sizeOf(request)");
        return size;
    }

    private void TakeLocked(int maxItems, List<Ticket> taken, Func<TRequest, bool>? admit, ref List<Ticket>? dead)
    {
        var now = DateTime.UtcNow;
        var items = 0;
        var first = true;
        var changed = false;
        while (_waiting.First is { } node)
        {
            var t = node.Value;
            var isDead = t.CancellationToken.IsCancellationRequested || t.IsExpired(now);
            if (!isDead && ((!first && items + t.Size > maxItems) || !(admit?.Invoke(t.Request) ?? true)))
            {
                break;
            }
            _waiting.RemoveFirst();
            t.Node = null;
            _waitingItems -= t.Size;
            changed = true;
            if (isDead)
            {
                (dead ??= []).Add(t);
                continue;
            }
            t.StartedAt = Stopwatch.GetTimestamp();
            _running++;
            _metrics.Started(Stopwatch.GetElapsedTime(t.EnqueuedAt, t.StartedAt));
            _observer?.TakenLocked(t);
            taken.Add(t);
            items += t.Size;
            first = false;
        }
        if (changed)
        {
            _observer?.WaitingChangedLocked();
        }
    }

    /// <summary>Completes requests found dead in the queue, outside the gate (their continuations run elsewhere anyway).</summary>
    private void Skip(List<Ticket>? dead)
    {
        foreach (var t in dead ?? [])
        {
            if (t.CancellationToken.IsCancellationRequested && !t.IsExpired(DateTime.UtcNow))
            {
                CoreLog.RequestSkipped(_logger, _options.Name, "cancelled");
            }
            else
            {
                CoreLog.RequestSkipped(_logger, _options.Name, "deadline passed");
            }
            t.Cancel();
        }
    }

    /// <summary>A ticket was answered (once): counts its outcome before the caller can see it.</summary>
    private void CountEnded(Ticket ticket, QueueOutcome outcome)
    {
        var started = ticket.StartedAt != 0;
        lock (_gate)
        {
            _outcomes[(int)outcome]++;
            if (started)
            {
                _running--;
            }
        }
        _metrics.Ended(outcome, started ? Stopwatch.GetElapsedTime(ticket.StartedAt) : null);
    }
}
