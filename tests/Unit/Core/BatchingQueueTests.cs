using MultiModal.Tests.Testing;
using System.Collections.Concurrent;
using Grpc.Core;
using MultiModal.Contracts.Common.V1;
using MultiModal.Core.Errors;
using MultiModal.Core.Inference;
using Xunit;

namespace MultiModal.Tests.Unit.Core;

public sealed class BatchingQueueTests
{
    /// <summary>A request: an id to route the result back, and its number of items.</summary>
    private sealed record Job(int Id, int Size = 1);

    /// <summary>
    /// A batch function that records what ran and, while <see cref="Hold"/> is set, blocks on the worker thread:
    /// with the worker busy, later requests pile up in the queue in a known order.
    /// </summary>
    private sealed class RecordingModel
    {
        public readonly ConcurrentQueue<int[]> Batches = new();
        public readonly ConcurrentDictionary<int, byte> Threads = new();
        public readonly ManualResetEventSlim Hold = new(initialState: true);
        public readonly SemaphoreSlim Started = new(0);
        public Func<Job, bool> Throws { get; init; } = _ => false;

        public IReadOnlyList<string> Run(IReadOnlyList<Job> jobs)
        {
            Threads[Environment.CurrentManagedThreadId] = 0;
            Batches.Enqueue([.. jobs.Select(j => j.Id)]);
            Started.Release();
            Assert.True(Hold.Wait(MultiModal.Tests.Testing.TaskExtensions.DefaultTimeoutSpan), "test never released the worker");
            if (jobs.Any(Throws))
            {
                throw new InvalidOperationException("forward pass failed");
            }
            return [.. jobs.Select(j => $"result-{j.Id}")];
        }

        public int[] RanIds => [.. Batches.SelectMany(b => b)];
    }

    private static BatchingQueue<Job, string> NewQueue(
        RecordingModel model, int maxBatchSize = 32, int maxWaitMs = 0, int maxQueueLength = 256) => new(
        new BatchingOptions
        {
            MaxBatchSize = maxBatchSize,
            MaxWait = TimeSpan.FromMilliseconds(maxWaitMs),
            MaxQueueLength = maxQueueLength,
            Name = "test",
        },
        model.Run, job => job.Size, new CollectingLogger());

    /// <summary>Enqueues a first request and waits until the worker is inside runBatch with it, held there.</summary>
    private static async Task<Task<string>> OccupyWorkerAsync(BatchingQueue<Job, string> queue, RecordingModel model, int id = 0)
    {
        model.Hold.Reset();
        var running = queue.EnqueueAsync(new Job(id), deadline: null, CancellationToken.None);
        Assert.True(await model.Started.WaitAsync(MultiModal.Tests.Testing.TaskExtensions.DefaultTimeoutSpan));
        return running;
    }

    [Fact]
    public async Task EnqueueAsync_ManyConcurrentCallers_FormsMultiRequestBatchesAndRoutesResults()
    {
        var model = new RecordingModel();
        using var queue = NewQueue(model, maxBatchSize: 32, maxWaitMs: 20);
        // The worker is held while the callers enqueue, so they wait together and must share batches, however the
        // threads are scheduled (not on arriving within MaxWait of each other).
        var first = await OccupyWorkerAsync(queue, model, id: 64);
        using var go = new ManualResetEventSlim();

        var callers = Enumerable.Range(0, 64).Select(i => Task.Run(async () =>
        {
            go.Wait();
            return (Id: i, Result: await queue.EnqueueAsync(new Job(i), deadline: null, CancellationToken.None));
        })).ToArray();
        go.Set();
        var until = DateTime.UtcNow + MultiModal.Tests.Testing.TaskExtensions.DefaultTimeoutSpan;
        while (queue.QueueDepth < 64)
        {
            Assert.True(DateTime.UtcNow < until, $"only {queue.QueueDepth} of 64 callers enqueued");
            await Task.Delay(5);
        }
        model.Hold.Set();
        var results = await Task.WhenAll(callers).DefaultTimeout();
        Assert.Equal("result-64", await first.DefaultTimeout());

        Assert.All(results, r => Assert.Equal($"result-{r.Id}", r.Result));
        Assert.Equal(Enumerable.Range(0, 65), model.RanIds.Order());
        Assert.Contains(model.Batches, b => b.Length > 1);
        Assert.All(model.Batches, b => Assert.InRange(b.Length, 1, 32));
        Assert.Single(model.Threads);
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, model.Threads.Keys);
        var stats = queue.Stats;
        Assert.Equal(65ul, stats.RequestsAccepted);
        Assert.Equal(65ul, stats.ItemsRun);
        Assert.Equal((ulong)model.Batches.Count, stats.BatchesRun);
        Assert.Equal(32, stats.MaxRequestsInBatch);
        Assert.Equal(0, stats.QueueDepth);
    }

    [Fact]
    public async Task EnqueueAsync_SizesOverMaxBatchSize_SplitsFifoAndRunsOversizedAlone()
    {
        var model = new RecordingModel();
        using var queue = NewQueue(model, maxBatchSize: 4);
        var first = await OccupyWorkerAsync(queue, model);

        var waiting = new[] { new Job(1, 2), new Job(2, 2), new Job(3, 2), new Job(4, 5), new Job(5, 1) }
            .Select(j => queue.EnqueueAsync(j, deadline: null, CancellationToken.None)).ToArray();
        model.Hold.Set();
        await Task.WhenAll([first, .. waiting]).DefaultTimeout();

        // [0] held the worker; then 2+2 fill the batch, 2 cannot join 5 (FIFO, 7 > 4), 5 runs alone, 1 follows.
        Assert.Equal(new[] { new[] { 0 }, [1, 2], [3], [4], [5] }, model.Batches.ToArray());
        Assert.Equal("result-4", await waiting[3]);
    }

    [Fact]
    public async Task EnqueueAsync_QueueAlreadyFull_ThrowsQueueFullWithRetryInfo()
    {
        var model = new RecordingModel();
        using var queue = NewQueue(model, maxBatchSize: 1, maxQueueLength: 2);
        var running = await OccupyWorkerAsync(queue, model);
        var waiting = new[] { 1, 2 }.Select(i => queue.EnqueueAsync(new Job(i), null, CancellationToken.None)).ToArray();

        var ex = await Assert.ThrowsAsync<InferenceException>(() => queue.EnqueueAsync(new Job(3), null, CancellationToken.None));

        Assert.Equal(StatusCode.ResourceExhausted, ex.Code);
        Assert.Equal(ErrorReason.QueueFull, ex.Reason);
        Assert.Equal("2", ex.Metadata["queueLength"]);
        Assert.InRange(ex.RetryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));   // the documented jitter, [1, 2) s
        Assert.Equal(1ul, queue.Stats.RequestsRejected);
        Assert.Equal(2, queue.Stats.QueueDepth);
        model.Hold.Set();
        await Task.WhenAll([running, .. waiting]).DefaultTimeout();
        Assert.DoesNotContain(3, model.RanIds);
        Assert.Equal("result-3", await queue.EnqueueAsync(new Job(3), null, CancellationToken.None).DefaultTimeout());
    }

    [Fact]
    public async Task ThrowIfFull_QueueFullThenNot_ThrowsQueueFullCountedAsRejectedThenReturns()
    {
        var model = new RecordingModel();
        using var queue = NewQueue(model, maxBatchSize: 1, maxQueueLength: 2);
        var running = await OccupyWorkerAsync(queue, model);
        queue.ThrowIfFull();                                                  // one running, none waiting
        var waiting = new[] { 1, 2 }.Select(i => queue.EnqueueAsync(new Job(i), null, CancellationToken.None)).ToArray();

        var ex = Assert.Throws<InferenceException>(queue.ThrowIfFull);

        Assert.Equal(StatusCode.ResourceExhausted, ex.Code);
        Assert.Equal(ErrorReason.QueueFull, ex.Reason);
        Assert.NotNull(ex.RetryAfter);
        Assert.Equal(1ul, queue.Stats.RequestsRejected);
        Assert.Equal(3ul, queue.Stats.RequestsAccepted);                     // the running one and the two waiting
        model.Hold.Set();
        await Task.WhenAll([running, .. waiting]).DefaultTimeout();
        queue.ThrowIfFull();                                                  // drained: admits again
        Assert.Equal(1ul, queue.Stats.RequestsRejected);
    }

    [Fact]
    public async Task EnqueueAsync_CancelledWhileWaiting_CompletesCancelledAtOnceAndNeverRuns()
    {
        var model = new RecordingModel();
        using var queue = NewQueue(model);
        var running = await OccupyWorkerAsync(queue, model);
        using var cts = new CancellationTokenSource();
        var waiting = queue.EnqueueAsync(new Job(1), null, cts.Token);

        cts.Cancel();

        // The worker is still held: the task must complete without it (so waiting longer never hides a failure).
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.DefaultTimeout());
        Assert.True(waiting.IsCanceled);
        Assert.Equal(0, queue.QueueDepth);
        model.Hold.Set();
        await running.DefaultTimeout();
        Assert.Equal("result-2", await queue.EnqueueAsync(new Job(2), null, CancellationToken.None).DefaultTimeout());
        Assert.DoesNotContain(1, model.RanIds);
    }

    [Fact]
    public async Task EnqueueAsync_TokenAlreadyCancelled_ReturnsCancelledTaskAndNeverRuns()
    {
        var model = new RecordingModel();
        using var queue = NewQueue(model);

        var task = queue.EnqueueAsync(new Job(1), null, new CancellationToken(canceled: true));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task.DefaultTimeout());
        Assert.Equal(0ul, queue.Stats.RequestsAccepted);
        Assert.Empty(model.Batches);
    }

    [Fact]
    public async Task EnqueueAsync_DeadlinePassesWhileWaiting_FailsDeadlineExceededAndNeverRuns()
    {
        var model = new RecordingModel();
        using var queue = NewQueue(model);
        var running = await OccupyWorkerAsync(queue, model);
        var deadline = DateTime.UtcNow + MultiModal.Tests.Testing.TaskExtensions.ShortDeadlineSpan;
        var waiting = queue.EnqueueAsync(new Job(1), deadline, CancellationToken.None);

        // Not a synchronization: the deadline is wall-clock time, so let the clock pass it.
        while (DateTime.UtcNow <= deadline)
            await Task.Delay(10);
        model.Hold.Set();

        var ex = await Assert.ThrowsAsync<InferenceException>(() => waiting.DefaultTimeout());
        Assert.Equal(StatusCode.DeadlineExceeded, ex.Code);
        Assert.Equal(ErrorReason.DeadlineTooShort, ex.Reason);
        await running.DefaultTimeout();
        Assert.DoesNotContain(1, model.RanIds);
    }

    [Fact]
    public async Task EnqueueAsync_DeadlineAlreadyPassed_ThrowsDeadlineTooShort()
    {
        var model = new RecordingModel();
        using var queue = NewQueue(model);

        var ex = await Assert.ThrowsAsync<InferenceException>(
            () => queue.EnqueueAsync(new Job(1), DateTime.UtcNow.AddSeconds(-1), CancellationToken.None));

        Assert.Equal(ErrorReason.DeadlineTooShort, ex.Reason);
        Assert.Empty(model.Batches);
    }

    [Fact]
    public async Task EnqueueAsync_RunBatchThrows_FaultsThatBatchAndKeepsServing()
    {
        var model = new RecordingModel { Throws = job => job.Id < 0 };
        using var queue = NewQueue(model);
        var running = await OccupyWorkerAsync(queue, model, id: 100);
        var doomed = new[] { -1, 1 }.Select(i => queue.EnqueueAsync(new Job(i), null, CancellationToken.None)).ToArray();

        model.Hold.Set();

        Assert.Equal("result-100", await running.DefaultTimeout());
        foreach (var task in doomed)
        {
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => task.DefaultTimeout());
            Assert.Equal("forward pass failed", ex.Message);
        }
        Assert.Equal("result-2", await queue.EnqueueAsync(new Job(2), null, CancellationToken.None).DefaultTimeout());
        Assert.Equal(3ul, queue.Stats.BatchesRun);
    }

    [Fact]
    public async Task EnqueueAsync_RunBatchReturnsWrongCount_FaultsBatch()
    {
        using var queue = new BatchingQueue<Job, string>(
            new BatchingOptions { Name = "no-results" }, _ => [], job => job.Size, new CollectingLogger());

        var task = queue.EnqueueAsync(new Job(1), null, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => task.DefaultTimeout());
        Assert.Contains("returned 0 results for 1 requests", ex.Message);
    }

    [Fact]
    public async Task Dispose_RequestsWaiting_FailsThemWithModelNotReadyAndFinishesRunningBatch()
    {
        var model = new RecordingModel();
        var queue = NewQueue(model);
        var running = await OccupyWorkerAsync(queue, model);
        var waiting = queue.EnqueueAsync(new Job(1), null, CancellationToken.None);

        var disposing = Task.Run(queue.Dispose);

        var ex = await Assert.ThrowsAsync<InferenceException>(() => waiting.DefaultTimeout());
        Assert.Equal(StatusCode.Unavailable, ex.Code);
        Assert.Equal(ErrorReason.ModelNotReady, ex.Reason);
        Assert.False(disposing.IsCompleted); // still waiting for the running batch
        model.Hold.Set();
        await disposing.DefaultTimeout();
        Assert.Equal("result-0", await running.DefaultTimeout());
        var after = await Assert.ThrowsAsync<InferenceException>(() => queue.EnqueueAsync(new Job(2), null, CancellationToken.None));
        Assert.Equal(ErrorReason.ModelNotReady, after.Reason);
        Assert.DoesNotContain(1, model.RanIds);
    }

    [Fact]
    public async Task RejectWaiting_RequestsWaitingBehindARunningBatch_FailsOnlyThemWithTheReasonAtOnceAndKeepsServing()
    {
        var model = new RecordingModel();
        using var queue = NewQueue(model);
        var running = await OccupyWorkerAsync(queue, model);
        var waiting = new[] { queue.EnqueueAsync(new Job(1), null, CancellationToken.None), queue.EnqueueAsync(new Job(2), null, CancellationToken.None) };
        var reason = InferenceException.Draining(TimeSpan.FromSeconds(30));

        var rejected = queue.RejectWaiting(reason);

        Assert.Equal(2, rejected);
        foreach (var task in waiting)
            Assert.Same(reason, await Assert.ThrowsAsync<InferenceException>(() => task.DefaultTimeout()));
        Assert.False(running.IsCompleted); // the running batch was not touched
        Assert.Equal(0, queue.QueueDepth);
        model.Hold.Set();
        Assert.Equal("result-0", await running.DefaultTimeout());
        Assert.Equal("result-3", await queue.EnqueueAsync(new Job(3), null, CancellationToken.None).DefaultTimeout());
        Assert.Equal([0, 3], model.RanIds);
        Assert.Equal(0, queue.RejectWaiting(reason));
    }

    [Fact]
    public void Stats_ToWire_CopiesEveryCounter()
    {
        var wire = new ServingStatsSnapshot(10, 2, 4, 30, 7, 3).ToWire();

        Assert.Equal(new ServingStats
        {
            RequestsAccepted = 10, RequestsRejected = 2, BatchesRun = 4, ItemsRun = 30, MaxRequestsInBatch = 7, QueueDepth = 3,
        }, wire);
    }

    [Fact]
    public void Constructor_InvalidOptions_Throws()
    {
        var model = new RecordingModel();

        Assert.Throws<ArgumentOutOfRangeException>(() => NewQueue(model, maxBatchSize: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => NewQueue(model, maxQueueLength: 0));
    }
}
