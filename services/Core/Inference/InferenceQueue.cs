using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace MultiModal.Core.Inference;

/// <summary>
/// What callers see of a queue in front of a model: enqueue with a deadline and a token, counters, depth, shutdown.
/// Admission (bound, deadlines, cancellation, draining, counters, metrics, the worker thread) is the fleet's one
/// <see cref="RequestQueue{TRequest, TResult}"/>, which the streaming <see cref="Jobs.JobQueue{TWork, TPreview, TResult}"/>
/// shares; each subclass is a way of running what it admits.
/// </summary>
public abstract class InferenceQueue<TRequest, TResult> : IDisposable
{
    private protected InferenceQueue(BatchingOptions options, Func<TRequest, int> sizeOf, ILogger logger, IMeterFactory? meterFactory) =>
        Requests = new RequestQueue<TRequest, TResult>(options, sizeOf, logger, meterFactory);

    private protected RequestQueue<TRequest, TResult> Requests { get; }

    /// <summary>Counters since the queue was created (what a "batch" is depends on the queue, see its summary).</summary>
    public ServingStatsSnapshot Stats => Requests.Stats;

    /// <summary>Requests waiting now (not counting those running).</summary>
    public int QueueDepth => Requests.QueueDepth;

    /// <summary>
    /// Queues <paramref name="request"/> and completes with its result once it ran. Throws
    /// <see cref="Errors.InferenceException"/> QUEUE_FULL when <see cref="BatchingOptions.MaxQueueLength"/> requests
    /// already wait, DEADLINE_TOO_SHORT when <paramref name="deadline"/> already passed, MODEL_NOT_READY after Dispose.
    /// The task is cancelled as soon as <paramref name="cancellationToken"/> is, and fails with DEADLINE_TOO_SHORT as soon
    /// as the deadline passes before the request starts (also when the token fires because of it); either way a request
    /// that has not started never runs.
    /// </summary>
    /// <param name="deadline">UTC deadline (gRPC's <c>ServerCallContext.Deadline</c>); null or MaxValue for none.</param>
    public Task<TResult> EnqueueAsync(TRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        Requests.Enqueue(request, deadline, cancellationToken);

    /// <summary>
    /// Answers every request that has not started with <paramref name="reason"/>, at once (e.g. UNAVAILABLE while the
    /// server drains); requests already running finish and are delivered. Returns how many were answered. Admission
    /// stays open: a later request is queued as usual.
    /// </summary>
    public int RejectWaiting(Errors.InferenceException reason) => Requests.RejectWaiting(reason);

    /// <summary>
    /// Throws QUEUE_FULL (counted and logged as a shed) when the queue is full now: call it before costly preparation
    /// (decoding images) so that a call about to be shed costs nothing. <see cref="EnqueueAsync"/> checks again.
    /// </summary>
    public void ThrowIfFull() => Requests.ThrowIfFull();

    /// <summary>
    /// Stops admitting: requests still waiting fail with MODEL_NOT_READY at once; work already running finishes and is
    /// delivered before this returns, so nothing accepted is lost. Idempotent.
    /// </summary>
    public void Dispose()
    {
        Requests.Dispose();
        GC.SuppressFinalize(this);
    }
}
