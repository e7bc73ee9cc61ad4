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
/// <see cref="InferenceQueue{TRequest, TResult}.Stats"/> count forward passes as batches.
/// </summary>
/// <typeparam name="TRequest">One caller's work (may hold several items, e.g. several texts).</typeparam>
/// <typeparam name="TResult">That caller's share of the batch output.</typeparam>
public sealed class BatchingQueue<TRequest, TResult> : InferenceQueue<TRequest, TResult>
{
    private readonly BatchingOptions _options;
    private readonly Func<IReadOnlyList<TRequest>, IReadOnlyList<TResult>> _runBatch;
    private readonly ILogger _logger;

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
        : base(options, sizeOf, logger, meterFactory)
    {
        _options = options;
        _runBatch = runBatch;
        _logger = logger;
        Requests.StartWorker("batches", RunWorker);
    }

    private void RunWorker()
    {
        var batch = new List<RequestQueue<TRequest, TResult>.Ticket>(_options.MaxBatchSize);
        while (Requests.WaitAndTake(_options.MaxBatchSize, batch))
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
        IReadOnlyList<TResult>? results = null;
        Exception? failure = null;
        try
        {
            results = _runBatch(requests);
            if (results.Count != requests.Length)
            {
                throw new InvalidOperationException(
                    $"Batch function of queue '{_options.Name}' returned {results.Count} results for {requests.Length} requests.");
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        // Counted before any caller hears back, so a caller reading Stats after its result sees its batch.
        var waiting = Requests.RecordBatch(batch.Count, items);
        if (failure is null)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Succeed(results![i]);
            }
        }
        else
        {
            CoreLog.BatchFailed(_logger, _options.Name, batch.Count, items, failure);
            foreach (var p in batch)
            {
                p.Fail(failure);
            }
        }
        CoreLog.BatchRun(_logger, _options.Name, batch.Count, items, Stopwatch.GetElapsedTime(started).TotalMilliseconds, waiting);
    }
}
