using System.Collections.Concurrent;
using Grpc.Core;
using MultiModal.Contracts.Common.V1;
using MultiModal.Core.Errors;
using MultiModal.Core.Inference;
using MultiModal.Tests.Testing;
using Xunit;
using TaskExtensions = MultiModal.Tests.Testing.TaskExtensions;

namespace MultiModal.Tests.Unit.Core;

public sealed class ContinuousBatchingQueueTests
{
    /// <summary>A request: an id to route the result back, the steps its sequence needs, how it should fail, its budget cost.</summary>
    private sealed record Job(int Id, int Steps, bool ThrowsOnStart = false, bool ThrowsInStep = false, int Cost = 1);

    /// <summary>A sequence: a counter of steps to go, and how often it was disposed.</summary>
    private sealed class Counter(Job job, FakeRunner runner) : IDisposable
    {
        private int _disposals;

        public Job Job { get; } = job;
        public int StepsLeft { get; set; } = job.Steps;
        public int Disposals => Volatile.Read(ref _disposals);

        public void Dispose()
        {
            runner.Saw();
            Interlocked.Increment(ref _disposals);
        }
    }

    /// <summary>
    /// Records which sequences each step held and on which threads it was called. While paused, every step blocks
    /// on the worker thread until the test allows it: requests enqueued meanwhile pile up in a known order.
    /// </summary>
    private sealed class FakeRunner(bool paused = false) : ISequenceRunner<Job, Counter, string>
    {
        private readonly SemaphoreSlim _permits = new(0);
        private volatile bool _paused = paused;

        public readonly ConcurrentQueue<int[]> Steps = new();
        public readonly ConcurrentQueue<Counter> Sequences = new();
        public readonly ConcurrentQueue<int> StartedIds = new();
        public readonly ConcurrentQueue<string> Violations = new();
        public readonly ConcurrentDictionary<int, byte> Threads = new();
        public readonly SemaphoreSlim StepEntered = new(0);

        public int[] SteppedIds => [.. Steps.SelectMany(s => s).Distinct()];

        /// <summary>Lets the worker through <paramref name="steps"/> more steps.</summary>
        public void Allow(int steps = 1) => _permits.Release(steps);

        /// <summary>Stops pausing: the held step and all later ones run freely.</summary>
        public void Resume()
        {
            _paused = false;
            _permits.Release();
        }

        public void Saw() => Threads[Environment.CurrentManagedThreadId] = 0;

        public Counter Start(Job job)
        {
            Saw();
            StartedIds.Enqueue(job.Id);
            if (job.ThrowsOnStart)
            {
                throw new InvalidOperationException("start failed");
            }
            var sequence = new Counter(job, this);
            Sequences.Enqueue(sequence);
            return sequence;
        }

        public void Step(IReadOnlyList<Counter> running)
        {
            Saw();
            Steps.Enqueue([.. running.Select(s => s.Job.Id)]);
            if (running.Any(s => s.StepsLeft <= 0 || s.Disposals > 0))
            {
                Violations.Enqueue($"step {Steps.Count} got a finished or disposed sequence");
            }
            StepEntered.Release();
            if (_paused && !_permits.Wait(TaskExtensions.DefaultTimeoutSpan))
            {
                Violations.Enqueue("test never allowed the step");
            }
            if (running.Any(s => s.Job.ThrowsInStep))
            {
                throw new InvalidOperationException("step failed");
            }
            foreach (var s in running)
            {
                s.StepsLeft--;
            }
        }

        public bool TryGetResult(Counter sequence, out string result)
        {
            Saw();
            result = sequence.StepsLeft == 0 ? $"result-{sequence.Job.Id}" : "";
            return sequence.StepsLeft == 0;
        }
    }

    private static ContinuousBatchingQueue<Job, Counter, string> NewQueue(
        FakeRunner runner, int maxBatchSize = 8, int maxWaitMs = 0, int maxQueueLength = 256, long? budget = null) => new(
        new BatchingOptions
        {
            MaxBatchSize = maxBatchSize,
            MaxWait = TimeSpan.FromMilliseconds(maxWaitMs),
            MaxQueueLength = maxQueueLength,
            Name = "test",
        },
        runner, new CollectingLogger(), budget: budget is { } total ? new SequenceBudget<Job>(job => job.Cost, total) : null);

    private static Task<string> Enqueue(
        ContinuousBatchingQueue<Job, Counter, string> queue, Job job, DateTime? deadline = null, CancellationToken token = default) =>
        queue.EnqueueAsync(job, deadline, token);

    /// <summary>Enqueues a first request and waits until the worker is inside its first step, held there.</summary>
    private static async Task<Task<string>> OccupyWorkerAsync(
        ContinuousBatchingQueue<Job, Counter, string> queue, FakeRunner runner, Job job)
    {
        var running = Enqueue(queue, job);
        Assert.True(await runner.StepEntered.WaitAsync(TaskExtensions.DefaultTimeoutSpan));
        return running;
    }

    /// <summary>After the worker stopped: every sequence was disposed exactly once and every rule held.</summary>
    private static void AssertCleanShutdown(FakeRunner runner, int sequences)
    {
        Assert.Equal(sequences, runner.Sequences.Count);
        Assert.All(runner.Sequences, s => Assert.Equal(1, s.Disposals));
        Assert.Empty(runner.Violations);
        Assert.Single(runner.Threads);
    }

    [Fact]
    public async Task EnqueueAsync_ShortJoinsRunningLong_JoinsNextStepAndIsDeliveredWhileLongRuns()
    {
        var runner = new FakeRunner(paused: true);
        var queue = NewQueue(runner);
        var longOne = await OccupyWorkerAsync(queue, runner, new Job(0, Steps: 5));

        var shortOne = Enqueue(queue, new Job(1, Steps: 2));
        runner.Allow(3); // step 1 [0] ends; steps 2 and 3 hold both, and 1 finishes after step 3

        Assert.Equal("result-1", await shortOne.DefaultTimeout());
        Assert.False(longOne.IsCompleted);
        Assert.Equal(new[] { new[] { 0 }, [0, 1], [0, 1] }, runner.Steps.Take(3).ToArray());
        runner.Resume();
        Assert.Equal("result-0", await longOne.DefaultTimeout());
        queue.Dispose();
        Assert.Equal(new[] { new[] { 0 }, [0, 1], [0, 1], [0], [0] }, runner.Steps.ToArray());
        AssertCleanShutdown(runner, sequences: 2);
    }

    [Fact]
    public async Task EnqueueAsync_MoreThanMaxBatchSize_CapsRunningSequencesAndStartsTheRestFifo()
    {
        var runner = new FakeRunner(paused: true);
        var queue = NewQueue(runner, maxBatchSize: 2);
        var first = await OccupyWorkerAsync(queue, runner, new Job(0, Steps: 2));

        var waiting = new[] { 1, 2, 3, 4 }.Select(i => Enqueue(queue, new Job(i, Steps: i == 2 ? 2 : 1))).ToArray();
        Assert.Equal(4, queue.QueueDepth);
        runner.Resume();
        await Task.WhenAll([first, .. waiting]).DefaultTimeout();

        // One slot is free after step 1, so only 1 joins; 0 and 1 finish after step 2, then 2 and 3 fill both slots,
        // 3 finishes first and 4 takes its slot beside 2.
        Assert.Equal(new[] { new[] { 0 }, [0, 1], [2, 3], [2, 4] }, runner.Steps.ToArray());
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, runner.StartedIds.ToArray());
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"result-{i}").ToArray(), await Task.WhenAll([first, .. waiting]));
        queue.Dispose();
        AssertCleanShutdown(runner, sequences: 5);
    }

    [Fact]
    public async Task EnqueueAsync_CostOverTheBudgetLeft_WaitsAndNothingBehindItJumpsAhead()
    {
        var runner = new FakeRunner(paused: true);
        var queue = NewQueue(runner, budget: 10);
        var first = await OccupyWorkerAsync(queue, runner, new Job(0, Steps: 3, Cost: 6));

        var big = Enqueue(queue, new Job(1, Steps: 1, Cost: 5));                  // 6 + 5 > 10: waits for 0
        var small = Enqueue(queue, new Job(2, Steps: 1, Cost: 1));                // would fit, but 1 is older
        runner.Resume();
        await Task.WhenAll(first, big, small).DefaultTimeout();
        queue.Dispose();

        Assert.Equal(new[] { new[] { 0 }, [0], [0], [1, 2] }, runner.Steps.ToArray());
        AssertCleanShutdown(runner, sequences: 3);
    }

    [Fact]
    public async Task EnqueueAsync_CostAboveTheWholeBudget_RunsAloneAndOthersWaitForIt()
    {
        var runner = new FakeRunner(paused: true);
        var queue = NewQueue(runner, budget: 10);
        var huge = await OccupyWorkerAsync(queue, runner, new Job(0, Steps: 2, Cost: 25));

        var next = Enqueue(queue, new Job(1, Steps: 1, Cost: 1));
        runner.Resume();
        await Task.WhenAll(huge, next).DefaultTimeout();
        queue.Dispose();

        Assert.Equal(new[] { new[] { 0 }, [0], [1] }, runner.Steps.ToArray());
        AssertCleanShutdown(runner, sequences: 2);
    }

    [Fact]
    public async Task EnqueueAsync_QueueAlreadyFull_ThrowsQueueFullAndNeverStartsIt()
    {
        var runner = new FakeRunner(paused: true);
        using var queue = NewQueue(runner, maxBatchSize: 1, maxQueueLength: 2);
        var running = await OccupyWorkerAsync(queue, runner, new Job(0, Steps: 1));
        var waiting = new[] { 1, 2 }.Select(i => Enqueue(queue, new Job(i, Steps: 1))).ToArray();

        var ex = await Assert.ThrowsAsync<InferenceException>(() => Enqueue(queue, new Job(3, Steps: 1)));

        Assert.Equal(StatusCode.ResourceExhausted, ex.Code);
        Assert.Equal(ErrorReason.QueueFull, ex.Reason);
        Assert.Equal("2", ex.Metadata["queueLength"]);
        Assert.Equal(1ul, queue.Stats.RequestsRejected);
        Assert.Equal(3ul, queue.Stats.RequestsAccepted);
        runner.Resume();
        await Task.WhenAll([running, .. waiting]).DefaultTimeout();
        Assert.DoesNotContain(3, runner.StartedIds);
    }

    [Fact]
    public async Task EnqueueAsync_CancelledWhileWaiting_CompletesCancelledAtOnceAndNeverStarts()
    {
        var runner = new FakeRunner(paused: true);
        using var queue = NewQueue(runner);
        var running = await OccupyWorkerAsync(queue, runner, new Job(0, Steps: 1));
        using var cts = new CancellationTokenSource();
        var waiting = Enqueue(queue, new Job(1, Steps: 1), token: cts.Token);

        cts.Cancel();

        // The worker is still held inside a step: the task must complete without it.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.DefaultTimeout());   // waiting longer hides nothing
        Assert.True(waiting.IsCanceled);
        Assert.Equal(0, queue.QueueDepth);
        runner.Resume();
        await running.DefaultTimeout();
        Assert.Equal("result-2", await Enqueue(queue, new Job(2, Steps: 1)).DefaultTimeout());
        Assert.DoesNotContain(1, runner.StartedIds);
    }

    [Fact]
    public async Task EnqueueAsync_DeadlinePassesWhileWaiting_FailsDeadlineTooShortAndNeverStarts()
    {
        var runner = new FakeRunner(paused: true);
        using var queue = NewQueue(runner);
        var running = await OccupyWorkerAsync(queue, runner, new Job(0, Steps: 1));
        var deadline = DateTime.UtcNow + TaskExtensions.ShortDeadlineSpan;
        var waiting = Enqueue(queue, new Job(1, Steps: 1), deadline);

        // Not a synchronization: the deadline is wall-clock time, so let the clock pass it.
        while (DateTime.UtcNow <= deadline)
        {
            await Task.Delay(10);
        }
        runner.Resume();

        var ex = await Assert.ThrowsAsync<InferenceException>(() => waiting.DefaultTimeout());
        Assert.Equal(StatusCode.DeadlineExceeded, ex.Code);
        Assert.Equal(ErrorReason.DeadlineTooShort, ex.Reason);
        await running.DefaultTimeout();
        Assert.DoesNotContain(1, runner.StartedIds);
    }

    [Fact]
    public async Task EnqueueAsync_CancelledWhileRunning_CallerCancelledAtOnceAndSequenceSteppedToItsEnd()
    {
        var runner = new FakeRunner(paused: true);
        var queue = NewQueue(runner);
        using var cts = new CancellationTokenSource();
        var running = Enqueue(queue, new Job(0, Steps: 3), token: cts.Token);
        Assert.True(await runner.StepEntered.WaitAsync(TaskExtensions.DefaultTimeoutSpan));

        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.DefaultTimeout());   // the runner is paused: only the cancel can end it
        runner.Resume();
        queue.Dispose();
        Assert.Equal(new[] { new[] { 0 }, [0], [0] }, runner.Steps.ToArray());
        AssertCleanShutdown(runner, sequences: 1);
    }

    [Fact]
    public async Task EnqueueAsync_SequenceFinishedAtStart_DeliveredWithoutAStep()
    {
        var runner = new FakeRunner();
        var queue = NewQueue(runner);

        Assert.Equal("result-0", await Enqueue(queue, new Job(0, Steps: 0)).DefaultTimeout());

        queue.Dispose();
        Assert.Empty(runner.Steps);
        Assert.Equal(0ul, queue.Stats.BatchesRun);
        AssertCleanShutdown(runner, sequences: 1);
    }

    [Fact]
    public async Task EnqueueAsync_StartThrows_FailsOnlyThatRequestAndOthersContinue()
    {
        var runner = new FakeRunner(paused: true);
        var queue = NewQueue(runner);
        var first = await OccupyWorkerAsync(queue, runner, new Job(0, Steps: 2));
        var doomed = Enqueue(queue, new Job(-1, Steps: 1, ThrowsOnStart: true));
        var other = Enqueue(queue, new Job(1, Steps: 1));

        runner.Resume();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => doomed.DefaultTimeout());
        Assert.Equal("start failed", ex.Message);
        Assert.Equal("result-0", await first.DefaultTimeout());
        Assert.Equal("result-1", await other.DefaultTimeout());
        queue.Dispose();
        Assert.Equal(new[] { new[] { 0 }, [0, 1] }, runner.Steps.ToArray());
        AssertCleanShutdown(runner, sequences: 2);
    }

    [Fact]
    public async Task EnqueueAsync_StepThrows_FailsEveryRunningRequestAndKeepsServing()
    {
        var runner = new FakeRunner(paused: true);
        var queue = NewQueue(runner);
        var first = await OccupyWorkerAsync(queue, runner, new Job(0, Steps: 3));
        var doomed = Enqueue(queue, new Job(-1, Steps: 3, ThrowsInStep: true));

        runner.Resume();

        foreach (var task in new[] { first, doomed })
        {
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => task.DefaultTimeout());
            Assert.Equal("step failed", ex.Message);
        }
        Assert.Equal("result-2", await Enqueue(queue, new Job(2, Steps: 1)).DefaultTimeout());
        queue.Dispose();
        Assert.Equal(new[] { new[] { 0 }, [0, -1], [2] }, runner.Steps.ToArray());
        Assert.Equal(3ul, queue.Stats.BatchesRun); // the failed step counts
        AssertCleanShutdown(runner, sequences: 3);
    }

    [Fact]
    public async Task RejectWaiting_RequestWaitingBehindARunningSequence_FailsItWithTheReasonWhileTheSequenceRunsOn()
    {
        var runner = new FakeRunner(paused: true);
        var queue = NewQueue(runner, maxBatchSize: 1);
        var running = await OccupyWorkerAsync(queue, runner, new Job(0, Steps: 3));
        var waiting = Enqueue(queue, new Job(1, Steps: 1));
        var reason = InferenceException.Draining(TimeSpan.FromSeconds(30));

        var rejected = queue.RejectWaiting(reason);

        Assert.Equal(1, rejected);
        Assert.Same(reason, await Assert.ThrowsAsync<InferenceException>(() => waiting.DefaultTimeout()));
        Assert.False(running.IsCompleted);
        runner.Resume();
        Assert.Equal("result-0", await running.DefaultTimeout());
        Assert.Equal("result-2", await Enqueue(queue, new Job(2, Steps: 1)).DefaultTimeout()); // still admitting
        queue.Dispose();
        Assert.DoesNotContain(1, runner.StartedIds);
        AssertCleanShutdown(runner, sequences: 2);
    }

    [Fact]
    public async Task Dispose_SequencesRunningAndRequestsWaiting_FailsWaitersWithModelNotReadyAndDrainsRunning()
    {
        var runner = new FakeRunner(paused: true);
        var queue = NewQueue(runner, maxBatchSize: 1);
        var running = await OccupyWorkerAsync(queue, runner, new Job(0, Steps: 3));
        var waiting = Enqueue(queue, new Job(1, Steps: 1));

        var disposing = Task.Run(queue.Dispose);

        var ex = await Assert.ThrowsAsync<InferenceException>(() => waiting.DefaultTimeout());
        Assert.Equal(StatusCode.Unavailable, ex.Code);
        Assert.Equal(ErrorReason.ModelNotReady, ex.Reason);
        Assert.False(disposing.IsCompleted); // still driving the running sequence
        Assert.False(running.IsCompleted);
        runner.Resume();
        await disposing.DefaultTimeout();
        Assert.True(running.IsCompletedSuccessfully); // delivered before Dispose returned
        Assert.Equal("result-0", await running);
        var after = await Assert.ThrowsAsync<InferenceException>(() => Enqueue(queue, new Job(2, Steps: 1)));
        Assert.Equal(ErrorReason.ModelNotReady, after.Reason);
        queue.Dispose(); // idempotent
        Assert.Equal(new[] { new[] { 0 }, [0], [0] }, runner.Steps.ToArray());
        Assert.DoesNotContain(1, runner.StartedIds);
        AssertCleanShutdown(runner, sequences: 1);
    }

    [Fact]
    public async Task Stats_AfterSteps_CountStepsSequencesAndLargestStep()
    {
        var runner = new FakeRunner(paused: true);
        var queue = NewQueue(runner);
        var first = await OccupyWorkerAsync(queue, runner, new Job(0, Steps: 3));
        var others = new[] { 1, 2 }.Select(i => Enqueue(queue, new Job(i, Steps: 1))).ToArray();
        Assert.Equal(2, queue.Stats.QueueDepth);

        runner.Resume();
        await Task.WhenAll([first, .. others]).DefaultTimeout();

        // Steps: [0], [0,1,2], [0].
        Assert.Equal(new ServingStatsSnapshot(
            RequestsAccepted: 3, RequestsRejected: 0, BatchesRun: 3, ItemsRun: 5, MaxRequestsInBatch: 3, QueueDepth: 0), queue.Stats);
        queue.Dispose();
    }

    [Fact]
    public async Task EnqueueAsync_ManyConcurrentCallers_AllDeliveredWithEveryRunnerCallOnOneWorkerThread()
    {
        var runner = new FakeRunner();
        var queue = NewQueue(runner, maxBatchSize: 8, maxWaitMs: 20);
        using var go = new ManualResetEventSlim();
        var jobs = Enumerable.Range(0, 40).Select(i => new Job(i, Steps: 1 + i % 5)).ToArray();

        var callers = jobs.Select(job => Task.Run(async () =>
        {
            go.Wait();
            return (job.Id, Result: await queue.EnqueueAsync(job, deadline: null, CancellationToken.None));
        })).ToArray();
        go.Set();
        var results = await Task.WhenAll(callers).DefaultTimeout();
        queue.Dispose();

        Assert.All(results, r => Assert.Equal($"result-{r.Id}", r.Result));
        Assert.All(runner.Steps, s => Assert.InRange(s.Length, 1, 8));
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, runner.Threads.Keys);
        var stats = queue.Stats;
        Assert.Equal(40ul, stats.RequestsAccepted);
        Assert.Equal((ulong)runner.Steps.Count, stats.BatchesRun);
        // Each sequence is stepped exactly as often as it needs.
        Assert.Equal((ulong)jobs.Sum(j => j.Steps), stats.ItemsRun);
        Assert.Equal(runner.Steps.Max(s => s.Length), stats.MaxRequestsInBatch);
        AssertCleanShutdown(runner, sequences: 40);
    }

    [Fact]
    public void Constructor_InvalidOptions_Throws()
    {
        var runner = new FakeRunner();

        Assert.Throws<ArgumentOutOfRangeException>(() => NewQueue(runner, maxBatchSize: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => NewQueue(runner, maxQueueLength: 0));
    }
}
