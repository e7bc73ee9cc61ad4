using System.Collections.Concurrent;
using Grpc.Core;
using MultiModal.Core.Errors;
using MultiModal.Core.Inference.Jobs;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Unit.Core;

public sealed class JobQueueTests
{
    private static readonly TimeSpan NoHeartbeat = TimeSpan.Zero;

    /// <summary>Work: an id, its steps, and a preview on every step when asked.</summary>
    private sealed record Work(int Id, int Steps = 3, bool Previews = false, bool Throws = false) : IJobWork
    {
        public int Items => 1;
        public double Cost => Steps;
    }

    /// <summary>
    /// A work function that records what ran on which thread and, while <see cref="Hold"/> is reset, blocks before each
    /// step (checking the token as the pipeline does), so tests can pile jobs up behind a running one.
    /// </summary>
    private sealed class SteppingWork
    {
        public readonly ConcurrentQueue<int> Ran = new();
        public readonly ConcurrentDictionary<int, byte> Threads = new();
        public readonly ManualResetEventSlim Hold = new(initialState: true);
        public readonly SemaphoreSlim StepReached = new(0);

        public string Run(Work work, RunningJob<string> job)
        {
            Threads[Environment.CurrentManagedThreadId] = 0;
            Ran.Enqueue(work.Id);
            for (var step = 1; step <= work.Steps; step++)
            {
                StepReached.Release();
                while (!Hold.Wait(10))
                    job.CancellationToken.ThrowIfCancellationRequested();
                job.CancellationToken.ThrowIfCancellationRequested();
                if (work.Throws)
                    throw new InvalidOperationException("model failed");
                job.Report(step, work.Steps, work.Previews ? $"preview {work.Id}.{step}" : null);
            }
            return $"result {work.Id}";
        }

        public async Task WaitForStepAsync() =>
            Assert.True(await StepReached.WaitAsync(MultiModal.Tests.Testing.TaskExtensions.DefaultTimeoutSpan), "the worker never reached a step");
    }

    private static JobQueue<Work, string, string> NewQueue(SteppingWork model, int maxQueueLength = 8, int maxPendingPreviews = 2) => new(
        new JobQueueOptions { Name = "test", MaxQueueLength = maxQueueLength, MaxPendingPreviews = maxPendingPreviews },
        model.Run, new CollectingLogger());

    private static async Task<List<JobEvent>> ReadAllAsync(Job<Work, string, string> job, TimeSpan? heartbeat = null)
    {
        var events = new List<JobEvent>();
        await foreach (var e in job.ReadEventsAsync(heartbeat ?? NoHeartbeat, CancellationToken.None))
            events.Add(e);
        return events;
    }

    [Fact]
    public async Task Enqueue_IdleQueue_StreamsQueuedThenEveryStepThenOneCompletedLast()
    {
        var model = new SteppingWork();
        using var queue = NewQueue(model);

        using var job = queue.Enqueue(new Work(1, Steps: 4), deadline: null, CancellationToken.None);
        var events = await ReadAllAsync(job).DefaultTimeout();

        Assert.Equal(new JobQueued(0, null), events[0]);
        var progress = events.Skip(1).Take(4).Cast<JobProgress<string>>().ToList();
        Assert.Equal([1, 2, 3, 4], progress.Select(p => p.Step));
        Assert.All(progress, p => Assert.Equal(4, p.TotalSteps));
        Assert.Equal(TimeSpan.Zero, progress[^1].Eta);
        var completed = Assert.IsType<JobCompleted<string>>(events[^1]);
        Assert.Equal("result 1", completed.Result);
        Assert.Equal(6, events.Count);
        var stats = queue.Stats;
        Assert.Equal((1ul, 1ul, 1ul, 4ul, 0ul), (stats.Accepted, stats.JobsRun, stats.ItemsRun, stats.StepsRun, stats.Cancelled));
    }

    [Fact]
    public async Task Enqueue_WhileBusy_WaitersAreServedInArrivalOrderAndSeeTheirPositionsDrop()
    {
        var model = new SteppingWork();
        using var queue = NewQueue(model);
        model.Hold.Reset();
        using var first = queue.Enqueue(new Work(1), null, CancellationToken.None);
        await model.WaitForStepAsync();

        using var second = queue.Enqueue(new Work(2), null, CancellationToken.None);
        using var third = queue.Enqueue(new Work(3), null, CancellationToken.None);
        var reads = new[] { ReadAllAsync(first), ReadAllAsync(second), ReadAllAsync(third) };
        model.Hold.Set();
        var events = await Task.WhenAll(reads).DefaultTimeout();

        Assert.Equal([1, 2, 3], model.Ran);
        Assert.Single(model.Threads);
        Assert.Equal([1, 0], events[1].OfType<JobQueued>().Select(q => q.Position));
        Assert.Equal([2, 1, 0], events[2].OfType<JobQueued>().Select(q => q.Position));
        Assert.All(events, e => Assert.IsType<JobCompleted<string>>(e[^1]));
    }

    [Fact]
    public async Task Enqueue_QueueFull_ThrowsResourceExhaustedQueueFullAndCountsRejection()
    {
        var model = new SteppingWork();
        using var queue = NewQueue(model, maxQueueLength: 1);
        model.Hold.Reset();
        using var running = queue.Enqueue(new Work(1), null, CancellationToken.None);
        await model.WaitForStepAsync();
        using var waiting = queue.Enqueue(new Work(2), null, CancellationToken.None);

        var error = Assert.Throws<InferenceException>(() => queue.Enqueue(new Work(3), null, CancellationToken.None));

        Assert.Equal(StatusCode.ResourceExhausted, error.Code);
        Assert.Equal(Contracts.Common.V1.ErrorReason.QueueFull, error.Reason);
        Assert.Equal((2ul, 1ul, 1), (queue.Stats.Accepted, queue.Stats.Rejected, queue.Stats.QueueDepth));
        model.Hold.Set();
    }

    [Fact]
    public void Enqueue_DeadlineAlreadyPassed_ThrowsDeadlineTooShort()
    {
        using var queue = NewQueue(new SteppingWork());

        var error = Assert.Throws<InferenceException>(() => queue.Enqueue(new Work(1), DateTime.UtcNow.AddSeconds(-1), CancellationToken.None));

        Assert.Equal(StatusCode.DeadlineExceeded, error.Code);
        Assert.Equal(0ul, queue.Stats.Accepted);
    }

    [Fact]
    public async Task CancelWhileWaiting_JobLeavesQueueAndThoseBehindMoveUp()
    {
        var model = new SteppingWork();
        using var queue = NewQueue(model);
        model.Hold.Reset();
        using var running = queue.Enqueue(new Work(1), null, CancellationToken.None);
        await model.WaitForStepAsync();
        using var caller = new CancellationTokenSource();
        using var cancelled = queue.Enqueue(new Work(2), null, caller.Token);
        using var behind = queue.Enqueue(new Work(3), null, CancellationToken.None);

        caller.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReadAllAsync(cancelled)).DefaultTimeout();
        Assert.Equal(JobState.Removed, cancelled.State);
        Assert.Equal((1ul, 1), (queue.Stats.Cancelled, queue.Stats.QueueDepth));
        model.Hold.Set();
        var events = await ReadAllAsync(behind).DefaultTimeout();
        Assert.Equal([2, 1, 0], events.OfType<JobQueued>().Select(q => q.Position));
        Assert.Equal([1, 3], model.Ran);
    }

    [Fact]
    public async Task RejectWaiting_JobsWaitingBehindARunningOne_EndsThemWithTheReasonWhileTheRunningJobCompletes()
    {
        var model = new SteppingWork();
        using var queue = NewQueue(model);
        model.Hold.Reset();
        using var running = queue.Enqueue(new Work(1), null, CancellationToken.None);
        await model.WaitForStepAsync();
        using var second = queue.Enqueue(new Work(2), null, CancellationToken.None);
        using var third = queue.Enqueue(new Work(3), null, CancellationToken.None);
        var reason = InferenceException.Draining(TimeSpan.FromSeconds(30));

        var rejected = queue.RejectWaiting(reason);

        Assert.Equal(2, rejected);
        foreach (var job in new[] { second, third })
        {
            Assert.Same(reason, await Assert.ThrowsAsync<InferenceException>(() => ReadAllAsync(job)).DefaultTimeout());
            Assert.Equal(JobState.Removed, job.State);
        }
        Assert.Equal(JobState.Running, running.State);
        Assert.Equal(0, queue.Stats.QueueDepth);
        model.Hold.Set();
        Assert.IsType<JobCompleted<string>>((await ReadAllAsync(running).DefaultTimeout())[^1]);
        using var after = queue.Enqueue(new Work(4, Steps: 1), null, CancellationToken.None); // still admitting
        Assert.IsType<JobCompleted<string>>((await ReadAllAsync(after).DefaultTimeout())[^1]);
        Assert.Equal([1, 4], model.Ran);
    }

    [Fact]
    public async Task CancelWhileRunning_StopsAtNextStepThenServesNextJob()
    {
        var model = new SteppingWork();
        using var queue = NewQueue(model);
        model.Hold.Reset();
        using var caller = new CancellationTokenSource();
        using var first = queue.Enqueue(new Work(1, Steps: 20), null, caller.Token);
        await model.WaitForStepAsync();
        using var next = queue.Enqueue(new Work(2, Steps: 2), null, CancellationToken.None);

        caller.Cancel();
        var firstEvents = ReadAllAsync(first);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => firstEvents).DefaultTimeout();
        model.Hold.Set();
        var nextEvents = await ReadAllAsync(next).DefaultTimeout();

        Assert.IsType<JobCompleted<string>>(nextEvents[^1]);
        var stats = queue.Stats;
        Assert.Equal((2ul, 1ul, 1ul, 2ul), (stats.JobsRun, stats.Cancelled, stats.ItemsRun, stats.StepsRun));
    }

    [Fact]
    public async Task DisposeJob_WhileRunning_CancelsTheWork()
    {
        var model = new SteppingWork();
        using var queue = NewQueue(model);
        model.Hold.Reset();
        var job = queue.Enqueue(new Work(1, Steps: 20), null, CancellationToken.None);
        await model.WaitForStepAsync();

        job.Dispose();
        using var next = queue.Enqueue(new Work(2, Steps: 1), null, CancellationToken.None);
        model.Hold.Set();
        await ReadAllAsync(next).DefaultTimeout();

        Assert.Equal(1ul, queue.Stats.Cancelled);
        Assert.Equal(JobState.Finished, job.State);
    }

    [Fact]
    public async Task Deadline_PassesWhileWaiting_JobRemovedWithDeadlineTooShort()
    {
        var model = new SteppingWork();
        using var queue = NewQueue(model);
        model.Hold.Reset();
        using var running = queue.Enqueue(new Work(1), null, CancellationToken.None);
        await model.WaitForStepAsync();

        using var late = queue.Enqueue(new Work(2), DateTime.UtcNow + MultiModal.Tests.Testing.TaskExtensions.ShortDeadlineSpan, CancellationToken.None);

        // The queues' one deadline contract: DEADLINE_EXCEEDED / DEADLINE_TOO_SHORT at once, while the worker is still held.
        var error = await Assert.ThrowsAsync<InferenceException>(() => ReadAllAsync(late)).DefaultTimeout();
        Assert.Equal(StatusCode.DeadlineExceeded, error.Code);
        Assert.Equal(Contracts.Common.V1.ErrorReason.DeadlineTooShort, error.Reason);
        Assert.Equal(JobState.Removed, late.State);
        Assert.Equal((1ul, 0), (queue.Stats.Cancelled, queue.Stats.QueueDepth));
        model.Hold.Set();
        await ReadAllAsync(running).DefaultTimeout();
        Assert.Equal([1], model.Ran);
    }

    [Fact]
    public async Task ReadEvents_WaitingWithHeartbeat_RepeatsItsPosition()
    {
        var model = new SteppingWork();
        using var queue = NewQueue(model);
        model.Hold.Reset();
        using var running = queue.Enqueue(new Work(1), null, CancellationToken.None);
        await model.WaitForStepAsync();
        using var waiting = queue.Enqueue(new Work(2), null, CancellationToken.None);

        var queued = new List<JobQueued>();
        await foreach (var e in waiting.ReadEventsAsync(TimeSpan.FromMilliseconds(20), CancellationToken.None).WithCancellation(CancellationToken.None))
        {
            queued.Add(Assert.IsType<JobQueued>(e));
            if (queued.Count == 3)
                break;
        }

        Assert.All(queued, q => Assert.Equal(1, q.Position));
        model.Hold.Set();
    }

    [Fact]
    public async Task Report_SlowReader_DropsOldestPreviewsButNeverProgress()
    {
        var model = new SteppingWork();
        using var queue = NewQueue(model, maxPendingPreviews: 2);

        // Nobody reads until the job is done: every step's event waits in the buffer.
        using var job = queue.Enqueue(new Work(1, Steps: 6, Previews: true), null, CancellationToken.None);
        while (queue.Stats.JobsRun == 0 || queue.Stats.Running)
            await Task.Delay(5);
        var events = await ReadAllAsync(job).DefaultTimeout();

        var progress = events.OfType<JobProgress<string>>().ToList();
        Assert.Equal([1, 2, 3, 4, 5, 6], progress.Select(p => p.Step));
        Assert.Equal([null, null, null, null, "preview 1.5", "preview 1.6"], progress.Select(p => p.Preview?.Take()));
        Assert.Equal(4, job.PreviewsDropped);
    }

    [Fact]
    public async Task Run_WorkThrows_FailsOnlyThatJob()
    {
        var model = new SteppingWork();
        using var queue = NewQueue(model);

        using var failing = queue.Enqueue(new Work(1, Throws: true), null, CancellationToken.None);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ReadAllAsync(failing)).DefaultTimeout();
        using var next = queue.Enqueue(new Work(2), null, CancellationToken.None);
        var events = await ReadAllAsync(next).DefaultTimeout();

        Assert.Equal("model failed", error.Message);
        Assert.IsType<JobCompleted<string>>(events[^1]);
        Assert.Equal((1ul, 2ul), (queue.Stats.Failed, queue.Stats.JobsRun));
    }

    [Fact]
    public async Task EstimatedWait_AfterAFinishedJob_IsKnownAndGrowsWithPosition()
    {
        var model = new SteppingWork();
        using var queue = NewQueue(model);
        using (var warm = queue.Enqueue(new Work(0, Steps: 1), null, CancellationToken.None))
            await ReadAllAsync(warm).DefaultTimeout();
        model.Hold.Reset();
        using var running = queue.Enqueue(new Work(1), null, CancellationToken.None);
        await model.WaitForStepAsync();

        using var second = queue.Enqueue(new Work(2, Steps: 50), null, CancellationToken.None);
        using var third = queue.Enqueue(new Work(3), null, CancellationToken.None);

        var waits = new List<TimeSpan>();
        foreach (var job in new[] { second, third })
            await foreach (var e in job.ReadEventsAsync(NoHeartbeat, CancellationToken.None))
            {
                waits.Add(Assert.IsType<JobQueued>(e).EstimatedWait!.Value);
                break;
            }
        Assert.True(waits[1] > waits[0], $"third waits {waits[1]}, second {waits[0]}");
        model.Hold.Set();
    }

    [Fact]
    public async Task RejectWaiting_JobsWaiting_StreamsEndWithTheReasonAtOnceAndTheRunningJobCompletes()
    {
        var model = new SteppingWork();
        using var queue = NewQueue(model);
        model.Hold.Reset();
        using var running = queue.Enqueue(new Work(1), null, CancellationToken.None);
        await model.WaitForStepAsync();
        using var second = queue.Enqueue(new Work(2), null, CancellationToken.None);
        using var third = queue.Enqueue(new Work(3), null, CancellationToken.None);
        var draining = new InferenceException(StatusCode.Unavailable, Contracts.Common.V1.ErrorReason.ModelNotReady, "draining");

        Assert.Equal(2, queue.RejectWaiting(draining));

        foreach (var job in new[] { second, third })
        {
            Assert.Same(draining, await Assert.ThrowsAsync<InferenceException>(() => ReadAllAsync(job)).DefaultTimeout());
            Assert.Equal(JobState.Removed, job.State);
        }
        Assert.Equal(0, queue.Stats.QueueDepth);
        model.Hold.Set();
        Assert.IsType<JobCompleted<string>>((await ReadAllAsync(running).DefaultTimeout())[^1]);
        Assert.Equal([1], model.Ran);
    }

    [Fact]
    public async Task Dispose_WithWaitingAndRunningJobs_FailsWaitersAndCancelsRunning()
    {
        var model = new SteppingWork();
        var queue = NewQueue(model);
        model.Hold.Reset();
        using var running = queue.Enqueue(new Work(1, Steps: 20), null, CancellationToken.None);
        await model.WaitForStepAsync();
        using var waiting = queue.Enqueue(new Work(2), null, CancellationToken.None);

        queue.Dispose();

        var error = await Assert.ThrowsAsync<InferenceException>(() => ReadAllAsync(waiting)).DefaultTimeout();
        Assert.Equal(StatusCode.Unavailable, error.Code);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReadAllAsync(running)).DefaultTimeout();
        Assert.Throws<InferenceException>(() => queue.Enqueue(new Work(3), null, CancellationToken.None));
    }
}
