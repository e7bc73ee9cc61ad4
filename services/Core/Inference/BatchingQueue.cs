using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using MultiModal.Contracts.Common.V1;
using MultiModal.Core.Errors;
using MultiModal.Core.Logging;

namespace MultiModal.Core.Inference;

/// <summary>
/// Micro-batches concurrent requests into one forward pass. Callers await <see cref="EnqueueAsync"/>; one dedicated
/// thread owned by the queue takes the oldest waiting request, lets others join for up to
/// <see cref="BatchingOptions.MaxWait"/>, and runs them together. All model calls happen on that one thread because
/// TorchSharp dispose scopes are thread-static and the device is best fed by a single stream of work.
/// </summary>
/// <typeparam name="TRequest">One caller's work (may hold several items, e.g. several texts).</typeparam>
/// <typeparam name="TResult">That caller's share of the batch output.</typeparam>
public sealed class BatchingQueue<TRequest, TResult> : IDisposable
{
    private readonly BatchingOptions _options;
    private readonly Func<IReadOnlyList<TRequest>, IReadOnlyList<TResult>> _runBatch;
    private readonly Func<TRequest, int> _sizeOf;
    private readonly ILogger _logger;
    private readonly BatchingMetrics _metrics;
    private readonly Thread _worker;

    // Guards everything below. A plain object (not System.Threading.Lock) because the worker sleeps on Monitor.Wait.
    private readonly object _gate = new();
    private readonly LinkedList<Pending> _waiting = new();
    private int _waitingItems;
    private bool _disposed;
    private ulong _accepted, _rejected, _batches, _items;
    private int _maxRequestsInBatch;

    /// <param name="options">Batch size, wait and queue bounds.</param>
    /// <param name="runBatch">
    /// Runs one forward pass, synchronously, on the queue's worker thread; returns one result per request, in order.
    /// An exception fails every request of that batch; the queue keeps serving.
    /// </param>
    /// <param name="sizeOf">Items in a request (e.g. its number of texts), counted against <see cref="BatchingOptions.MaxBatchSize"/>.</param>
    /// <param name="logger">Receives batch (Debug), shed (Warning) and failed-batch (Warning) events.</param>
    /// <param name="meterFactory">Creates the <c>MultiModal.Inference</c> meter; null makes a private one.</param>
    public BatchingQueue(
        BatchingOptions options,
        Func<IReadOnlyList<TRequest>, IReadOnlyList<TResult>> runBatch,
        Func<TRequest, int> sizeOf,
        ILogger logger,
        IMeterFactory? meterFactory = null)
    {
        options.Validate();
        _options = options;
        _runBatch = runBatch;
        _sizeOf = sizeOf;
        _logger = logger;
        _metrics = new BatchingMetrics(options.Name, () => QueueDepth, meterFactory);
        _worker = new Thread(RunWorker) { IsBackground = true, Name = $"{options.Name} batches" };
        _worker.Start();
    }

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

    /// <summary>Requests waiting now (not counting the batch that is running).</summary>
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

    /// <summary>
    /// Queues <paramref name="request"/> and completes with its result once its batch ran. Throws
    /// <see cref="InferenceException"/> QUEUE_FULL when <see cref="BatchingOptions.MaxQueueLength"/> requests already
    /// wait, DEADLINE_TOO_SHORT when <paramref name="deadline"/> already passed, MODEL_NOT_READY after Dispose.
    /// The task is cancelled as soon as <paramref name="cancellationToken"/> is, and fails with DEADLINE_TOO_SHORT when
    /// the deadline passes before its batch starts; either way the request is then not run.
    /// </summary>
    /// <param name="deadline">UTC deadline (gRPC's <c>ServerCallContext.Deadline</c>); null or MaxValue for none.</param>
    public Task<TResult> EnqueueAsync(TRequest request, DateTime? deadline, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult>(cancellationToken);
        }
        var pending = new Pending(this, request, SizeOf(request), deadline ?? DateTime.MaxValue, cancellationToken);
        if (pending.IsExpired(DateTime.UtcNow))
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
                pending = null;
            }
            else
            {
                pending.Node = _waiting.AddLast(pending);
                _waitingItems += pending.Size;
                _accepted++;
                Monitor.Pulse(_gate);
            }
        }

        if (pending is null)
        {
            _metrics.Rejected(ErrorReasons.ToWire(ErrorReason.QueueFull));
            CoreLog.QueueFull(_logger, _options.Name, _options.MaxQueueLength);
            throw InferenceException.QueueFull(_options.MaxQueueLength);
        }

        // Registered after the request is visible to the worker: if the token fires in between, Cancel() still finds it.
        pending.Registration = cancellationToken.UnsafeRegister(static state => ((Pending)state!).Cancel(), pending);
        return pending.Completion.Task;
    }

    /// <summary>
    /// Stops the worker: requests still waiting fail with MODEL_NOT_READY at once; a batch already running finishes
    /// and delivers its results before this returns.
    /// </summary>
    public void Dispose()
    {
        List<Pending> orphans;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            orphans = [.. _waiting];
            foreach (var p in orphans)
            {
                p.Node = null;
            }
            _waiting.Clear();
            _waitingItems = 0;
            Monitor.PulseAll(_gate);
        }

        foreach (var p in orphans)
        {
            p.Fail(InferenceException.ModelNotReady());
        }
        if (Thread.CurrentThread != _worker)
        {
            _worker.Join();
        }
        _metrics.Dispose();
    }

    private int SizeOf(TRequest request)
    {
        var size = _sizeOf(request);
        ArgumentOutOfRangeException.ThrowIfNegative(size, "sizeOf(request)");
        return size;
    }

    private void RunWorker()
    {
        var batch = new List<Pending>(_options.MaxBatchSize);
        var skipped = new List<Pending>();
        while (TakeBatch(batch, skipped))
        {
            foreach (var p in skipped)
            {
                Skip(p);
            }
            if (batch.Count > 0)
            {
                RunBatch(batch);
            }
            batch.Clear();
            skipped.Clear();
        }
    }

    /// <summary>Blocks until a batch is ready; false once disposed.</summary>
    private bool TakeBatch(List<Pending> batch, List<Pending> skipped)
    {
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

                // Let others join until the batch could be full or the oldest request has waited MaxWait.
                var waitMs = _options.MaxWait.TotalMilliseconds - Stopwatch.GetElapsedTime(first.Value.EnqueuedAt).TotalMilliseconds;
                if (_waitingItems < _options.MaxBatchSize && waitMs > 0)
                {
                    // Ceiling: Monitor.Wait rounds down, and a 0 ms wait would spin.
                    Monitor.Wait(_gate, (int)Math.Ceiling(waitMs));
                    continue;
                }
                break;
            }

            // FIFO: take from the front while the items fit; the first is always taken so an oversized request
            // still runs (alone). Requests already cancelled or expired are set aside, not counted.
            var now = DateTime.UtcNow;
            var items = 0;
            while (_waiting.First is { } node)
            {
                var p = node.Value;
                var dead = p.CancellationToken.IsCancellationRequested || p.IsExpired(now);
                if (!dead && batch.Count > 0 && items + p.Size > _options.MaxBatchSize)
                {
                    break;
                }
                _waiting.RemoveFirst();
                p.Node = null;
                _waitingItems -= p.Size;
                if (dead)
                {
                    skipped.Add(p);
                    continue;
                }
                batch.Add(p);
                items += p.Size;
            }
            return true;
        }
    }

    private void Skip(Pending p)
    {
        if (p.CancellationToken.IsCancellationRequested)
        {
            CoreLog.RequestSkipped(_logger, _options.Name, "cancelled");
            p.Cancel();
        }
        else
        {
            CoreLog.RequestSkipped(_logger, _options.Name, "deadline passed");
            p.Fail(InferenceException.DeadlineTooShort());
        }
    }

    private void RunBatch(List<Pending> batch)
    {
        var requests = new TRequest[batch.Count];
        var items = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            requests[i] = batch[i].Request;
            items += batch[i].Size;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            var results = _runBatch(requests);
            if (results.Count != requests.Length)
            {
                throw new InvalidOperationException(
                    $"Batch function of queue '{_options.Name}' returned {results.Count} results for {requests.Length} requests.");
            }
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Succeed(results[i]);
            }
        }
        catch (Exception ex)
        {
            CoreLog.BatchFailed(_logger, _options.Name, batch.Count, items, ex);
            foreach (var p in batch)
            {
                p.Fail(ex);
            }
        }

        int waiting;
        lock (_gate)
        {
            _batches++;
            _items += (ulong)items;
            _maxRequestsInBatch = Math.Max(_maxRequestsInBatch, batch.Count);
            waiting = _waiting.Count;
        }
        _metrics.BatchRun(items);
        CoreLog.BatchRun(_logger, _options.Name, batch.Count, items, Stopwatch.GetElapsedTime(started).TotalMilliseconds, waiting);
    }

    /// <summary>One caller's request while it waits or runs.</summary>
    private sealed class Pending(
        BatchingQueue<TRequest, TResult> owner, TRequest request, int size, DateTime deadline, CancellationToken cancellationToken)
    {
        public TRequest Request { get; } = request;
        public int Size { get; } = size;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public long EnqueuedAt { get; } = Stopwatch.GetTimestamp();

        // Continuations run on the thread pool, never inline on the worker thread that completes the task.
        public TaskCompletionSource<TResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Its node in the waiting list; null once taken, cancelled or orphaned (guarded by the owner's gate).</summary>
        public LinkedListNode<Pending>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }

        public bool IsExpired(DateTime utcNow) => deadline != DateTime.MaxValue && deadline <= utcNow;

        /// <summary>Token callback (and skip path): leaves the queue if still waiting, and completes at once.</summary>
        public void Cancel()
        {
            lock (owner._gate)
            {
                if (Node is not null)
                {
                    owner._waiting.Remove(Node);
                    owner._waitingItems -= Size;
                    Node = null;
                }
            }
            Completion.TrySetCanceled(CancellationToken);
            Registration.Unregister();
        }

        public void Succeed(TResult result)
        {
            Completion.TrySetResult(result);
            Registration.Unregister();
        }

        public void Fail(Exception exception)
        {
            Completion.TrySetException(exception);
            Registration.Unregister();
        }
    }
}
