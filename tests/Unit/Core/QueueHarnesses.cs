using System.Collections.Concurrent;
using MultiModal.Core.Errors;
using MultiModal.Core.Inference;
using MultiModal.Core.Inference.Jobs;
using MultiModal.Tests.Testing;
using Xunit;
using TaskExtensions = MultiModal.Tests.Testing.TaskExtensions;

namespace MultiModal.Tests.Unit.Core;

/// <summary>
/// The three kinds of queue the fleet serves with (CLIP's batches, Vision's continuous batching, Diffusion's streaming
/// jobs) behind one test face, so that the contract they share is checked once for all of them. Requests are int ids;
/// while <see cref="Hold"/> is reset, the worker blocks inside its model call.
/// </summary>
internal abstract class QueueHarness : IDisposable
{
    public const string Batching = "batching", Continuous = "continuous", Jobs = "jobs";

    public static TheoryData<string> Kinds => [Batching, Continuous, Jobs];

    public static QueueHarness Create(string kind, string name, int maxQueueLength = 8) => kind switch
    {
        Batching => new BatchingHarness(name, maxQueueLength),
        Continuous => new ContinuousHarness(name, maxQueueLength),
        Jobs => new JobHarness(name, maxQueueLength),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public readonly ManualResetEventSlim Hold = new(initialState: true);
    public readonly SemaphoreSlim Entered = new(0);
    public readonly ConcurrentQueue<int> Ran = new();

    /// <summary>Queues request <paramref name="id"/>; the task ends with its answer (a job: when its stream ends).</summary>
    public abstract Task Enqueue(int id, DateTime? deadline = null, CancellationToken token = default);

    public abstract int RejectWaiting(InferenceException reason);

    public abstract int QueueDepth { get; }

    public abstract void Dispose();

    /// <summary>Starts request 0 and waits until the worker is inside its model call, held there.</summary>
    public async Task<Task> OccupyAsync()
    {
        Hold.Reset();
        var running = Enqueue(0);
        Assert.True(await Entered.WaitAsync(TaskExtensions.DefaultTimeoutSpan), "the worker never started request 0");
        return running;
    }

    /// <summary>The model call: records the ids, then blocks while held.</summary>
    protected void Model(IEnumerable<int> ids, CancellationToken token = default)
    {
        foreach (var id in ids)
            Ran.Enqueue(id);
        Entered.Release();
        var until = DateTime.UtcNow + TaskExtensions.DefaultTimeoutSpan;
        while (!Hold.Wait(10, CancellationToken.None))
        {
            token.ThrowIfCancellationRequested();
            Assert.True(DateTime.UtcNow < until, "the test never released the worker");
        }
    }

    private sealed class BatchingHarness : QueueHarness
    {
        private readonly BatchingQueue<int, int> _queue;

        public BatchingHarness(string name, int maxQueueLength) => _queue = new(
            new BatchingOptions { Name = name, MaxBatchSize = 1, MaxWait = TimeSpan.Zero, MaxQueueLength = maxQueueLength },
            ids => { Model(ids); return ids; }, _ => 1, new CollectingLogger());

        public override Task Enqueue(int id, DateTime? deadline = null, CancellationToken token = default) => _queue.EnqueueAsync(id, deadline, token);

        public override int RejectWaiting(InferenceException reason) => _queue.RejectWaiting(reason);

        public override int QueueDepth => _queue.QueueDepth;

        public override void Dispose()
        {
            Hold.Set();
            _queue.Dispose();
        }
    }

    private sealed class ContinuousHarness : QueueHarness
    {
        private readonly ContinuousBatchingQueue<int, Sequence, int> _queue;

        public ContinuousHarness(string name, int maxQueueLength) => _queue = new(
            new BatchingOptions { Name = name, MaxBatchSize = 1, MaxWait = TimeSpan.Zero, MaxQueueLength = maxQueueLength },
            new Runner(this), new CollectingLogger());

        public override Task Enqueue(int id, DateTime? deadline = null, CancellationToken token = default) => _queue.EnqueueAsync(id, deadline, token);

        public override int RejectWaiting(InferenceException reason) => _queue.RejectWaiting(reason);

        public override int QueueDepth => _queue.QueueDepth;

        public override void Dispose()
        {
            Hold.Set();
            _queue.Dispose();
        }

        public sealed class Sequence(int id) : IDisposable
        {
            public int Id { get; } = id;
            public bool Stepped { get; set; }
            public void Dispose() { }
        }

        /// <summary>One step per sequence; the step is the model call.</summary>
        private sealed class Runner(ContinuousHarness harness) : ISequenceRunner<int, Sequence, int>
        {
            public Sequence Start(int request) => new(request);

            public void Step(IReadOnlyList<Sequence> running)
            {
                harness.Model(running.Select(s => s.Id));
                foreach (var s in running)
                    s.Stepped = true;
            }

            public bool TryGetResult(Sequence sequence, out int result)
            {
                result = sequence.Id;
                return sequence.Stepped;
            }
        }
    }

    private sealed class JobHarness : QueueHarness
    {
        private readonly JobQueue<Work, string, int> _queue;

        public JobHarness(string name, int maxQueueLength) => _queue = new(
            new JobQueueOptions { Name = name, MaxQueueLength = maxQueueLength },
            (work, job) => { Model([work.Id], job.CancellationToken); job.Report(1, 1, null); return work.Id; },
            new CollectingLogger());

        public override Task Enqueue(int id, DateTime? deadline = null, CancellationToken token = default)
        {
            var job = _queue.Enqueue(new Work(id), deadline, token);
            return ReadToEndAsync(job);
        }

        private static async Task ReadToEndAsync(Job<Work, string, int> job)
        {
            using (job)
            {
                await foreach (var _ in job.ReadEventsAsync(TimeSpan.Zero, CancellationToken.None))
                {
                }
            }
        }

        public override int RejectWaiting(InferenceException reason) => _queue.RejectWaiting(reason);

        public override int QueueDepth => _queue.Stats.QueueDepth;

        public override void Dispose()
        {
            Hold.Set();
            _queue.Dispose();
        }

        private sealed record Work(int Id) : IJobWork
        {
            public int Items => 1;
            public double Cost => 1;
        }
    }
}
