using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using MultiModal.Core.Logging;

namespace MultiModal.Core.Inference;

/// <summary>
/// Continuous batching for requests that run as sequences advancing one step (token) at a time. Between steps the
/// worker admits waiting requests up to <see cref="BatchingOptions.MaxBatchSize"/> running sequences, advances all of
/// them in one batched step, and hands each finished sequence's result to its caller at once, without waiting for
/// the others. Admission (queue bound, deadlines, cancellation, counters) is the same as
/// <see cref="BatchingQueue{TRequest, TResult}"/>'s; every runner call happens on the queue's one worker thread.
/// A sequence already running keeps being stepped until it finishes even if its caller cancelled (whose task is
/// cancelled at once): stopping it early is the runner's call, which sees the token through the request.
/// <see cref="InferenceQueue{TRequest, TResult}.Stats"/>: batches are steps (failed ones too), items the sequences
/// stepped summed over them, and the largest batch the most sequences in one step.
/// </summary>
/// <typeparam name="TRequest">One caller's work.</typeparam>
/// <typeparam name="TSequence">Its running state; the queue disposes each one exactly once.</typeparam>
/// <typeparam name="TResult">What the caller gets once its sequence finished.</typeparam>
public sealed class ContinuousBatchingQueue<TRequest, TSequence, TResult> : InferenceQueue<TRequest, TResult>
    where TSequence : IDisposable
{
    private readonly BatchingOptions _options;
    private readonly ISequenceRunner<TRequest, TSequence, TResult> _runner;
    private readonly ILogger _logger;
    private readonly SequenceBudget<TRequest>? _budget;

    /// <param name="options">
    /// <see cref="BatchingOptions.MaxBatchSize"/>: most sequences running (stepped) together.
    /// <see cref="BatchingOptions.MaxWait"/>: how long the oldest waiting request may wait for others to join when
    /// nothing runs (0 starts at once); while sequences run, waiting requests join at the next step.
    /// <see cref="BatchingOptions.MaxQueueLength"/> and <see cref="BatchingOptions.Name"/> as for
    /// <see cref="BatchingQueue{TRequest, TResult}"/>.
    /// </param>
    /// <param name="runner">Starts, steps and reads the sequences, on the worker thread.</param>
    /// <param name="logger">Receives step (Debug), shed (Warning) and failure (Warning) events.</param>
    /// <param name="meterFactory">Creates the <c>MultiModal.Inference</c> meter; null makes a private one.</param>
    /// <param name="budget">A bound on the running sequences' total cost besides their count; null for none.</param>
    public ContinuousBatchingQueue(
        BatchingOptions options,
        ISequenceRunner<TRequest, TSequence, TResult> runner,
        ILogger logger,
        IMeterFactory? meterFactory = null,
        SequenceBudget<TRequest>? budget = null)
        : base(options, static _ => 1, logger, meterFactory)   // each request is one sequence: MaxBatchSize counts sequences
    {
        budget?.Validate();
        _budget = budget;
        _options = options;
        _runner = runner;
        _logger = logger;
        Requests.StartWorker("sequences", RunWorker);
    }

    private void RunWorker()
    {
        var running = new List<Running>(_options.MaxBatchSize);
        var admitted = new List<RequestQueue<TRequest, TResult>.Ticket>(_options.MaxBatchSize);
        var stepBatch = new List<TSequence>(_options.MaxBatchSize);
        while (true)
        {
            // Block only when nothing runs; otherwise new requests join between steps without holding the others up.
            if (running.Count == 0)
            {
                if (!Requests.WaitAndTake(_options.MaxBatchSize, admitted, Admission(running)))
                {
                    return;
                }
            }
            else if (running.Count < _options.MaxBatchSize)
            {
                Requests.TakeReady(_options.MaxBatchSize - running.Count, admitted, Admission(running));
            }

            foreach (var ticket in admitted)
            {
                StartSequence(ticket, running);
            }
            admitted.Clear();

            if (running.Count > 0)
            {
                Step(running, stepBatch);
            }
        }
    }

    /// <summary>
    /// The budget's admission rule for one take: requests fit while their costs fit next to the running ones; with
    /// nothing running, the first is admitted whatever its cost. Null without a budget.
    /// </summary>
    private Func<TRequest, bool>? Admission(List<Running> running)
    {
        if (_budget is null)
        {
            return null;
        }
        var remaining = _budget.MaxTotal;
        foreach (var r in running)
        {
            remaining -= r.Cost;
        }
        var alone = running.Count == 0;
        return request =>
        {
            var cost = _budget.CostOf(request);
            if (cost > remaining && !alone)
            {
                return false;
            }
            remaining -= cost;
            alone = false;
            return true;
        };
    }

    private void StartSequence(RequestQueue<TRequest, TResult>.Ticket ticket, List<Running> running)
    {
        TSequence sequence;
        try
        {
            sequence = _runner.Start(ticket.Request);
        }
        catch (Exception ex)
        {
            CoreLog.SequenceFailed(_logger, _options.Name, "Start", ex);
            ticket.Fail(ex);
            return;
        }

        var started = new Running(ticket, sequence, _budget?.CostOf(ticket.Request) ?? 0);
        if (!TryFinish(started))
        {
            running.Add(started);
        }
    }

    private void Step(List<Running> running, List<TSequence> stepBatch)
    {
        stepBatch.Clear();
        foreach (var r in running)
        {
            stepBatch.Add(r.Sequence);
        }

        var started = Stopwatch.GetTimestamp();
        Exception? failure = null;
        try
        {
            _runner.Step(stepBatch);
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        // Counted before any caller hears back, so a caller reading Stats after its result sees its steps.
        var waiting = Requests.RecordBatch(running.Count, running.Count);

        if (failure is not null)
        {
            CoreLog.StepFailed(_logger, _options.Name, running.Count, failure);
            foreach (var r in running)
            {
                r.Ticket.Fail(failure);
                DisposeSequence(r.Sequence);
            }
            running.Clear();
            return;
        }

        var stepped = running.Count;
        var finished = running.RemoveAll(TryFinish);
        CoreLog.SequencesStepped(_logger, _options.Name, stepped, elapsedMs, finished, waiting);
    }

    /// <summary>Delivers and disposes the sequence if it finished (or reading its result threw); false while it needs more steps.</summary>
    private bool TryFinish(Running r)
    {
        try
        {
            if (!_runner.TryGetResult(r.Sequence, out var result))
            {
                return false;
            }
            r.Ticket.Succeed(result);
        }
        catch (Exception ex)
        {
            CoreLog.SequenceFailed(_logger, _options.Name, "TryGetResult", ex);
            r.Ticket.Fail(ex);
        }
        DisposeSequence(r.Sequence);
        return true;
    }

    private void DisposeSequence(TSequence sequence)
    {
        // A throwing Dispose must not take the worker thread (and every later request) down with it.
        try
        {
            sequence.Dispose();
        }
        catch (Exception ex)
        {
            CoreLog.SequenceDisposeFailed(_logger, _options.Name, ex);
        }
    }

    /// <summary>A request whose sequence is running.</summary>
    private readonly record struct Running(RequestQueue<TRequest, TResult>.Ticket Ticket, TSequence Sequence, long Cost);
}
