using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
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
    private readonly ILogger _logger;
    private readonly RequestQueue<TRequest, TResult> _requests;

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
        _options = options;
        _runBatch = runBatch;
        _logger = logger;
        _requests = new RequestQueue<TRequest, TResult>(options, sizeOf, logger, meterFactory);
        _requests.StartWorker("batches", RunWorker);
    }

    /// <summary>Counters since the queue was created.</summary>
    public ServingStatsSnapshot Stats => _requests.Stats;

    /// <summary>Requests waiting now (not counting the batch that is running).</summary>
    public int QueueDepth => _requests.QueueDepth;

    /// <summary>
    /// Queues <paramref name="request"/> and completes with its result once its batch ran. Throws
    /// <see cref="Errors.InferenceException"/> QUEUE_FULL when <see cref="BatchingOptions.MaxQueueLength"/> requests
    /// already wait, DEADLINE_TOO_SHORT when <paramref name="deadline"/> already passed, MODEL_NOT_READY after Dispose.
    /// The task is cancelled as soon as <paramref name="cancellationToken"/> is, and fails with DEADLINE_TOO_SHORT when
    /// the deadline passes before its batch starts; either way the request is then not run.
    /// </summary>
    /// <param name="deadline">UTC deadline (gRPC's <c>ServerCallContext.Deadline</c>); null or MaxValue for none.</param>
    public Task<TResult> EnqueueAsync(TRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        _requests.Enqueue(request, deadline, cancellationToken);

    /// <summary>
    /// Stops the worker: requests still waiting fail with MODEL_NOT_READY at once; a batch already running finishes
    /// and delivers its results before this returns.
    /// </summary>
    public void Dispose() => _requests.Dispose();

    private void RunWorker()
    {
        var batch = new List<RequestQueue<TRequest, TResult>.Ticket>(_options.MaxBatchSize);
        while (_requests.WaitAndTake(_options.MaxBatchSize, batch))
        {
            if (batch.Count > 0)
            {
                RunBatch(batch);
            }
            batch.Clear();
        }
    }

    private void RunBatch(List<RequestQueue<TRequest, TResult>.Ticket> batch)
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

        var waiting = _requests.RecordBatch(batch.Count, items);
        CoreLog.BatchRun(_logger, _options.Name, batch.Count, items, Stopwatch.GetElapsedTime(started).TotalMilliseconds, waiting);
    }
}
