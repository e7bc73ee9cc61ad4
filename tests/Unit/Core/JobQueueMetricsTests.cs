using MultiModal.Core.Inference;
using MultiModal.Core.Inference.Jobs;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Unit.Core;

/// <summary>
/// The job queue reports through the fleet's queue metrics (meter <c>MultiModal.Inference</c>, tagged with its name):
/// how jobs ended, their waits and run times; its stats count the steps.
/// </summary>
public sealed class JobQueueMetricsTests
{
    private sealed record Work(int Steps, bool Throws = false) : IJobWork
    {
        public int Items => 1;
        public double Cost => Steps;
    }

    [Fact]
    public async Task Jobs_CompletedAndFailed_CountedByOutcomeWithStepsAndDurations()
    {
        var queueName = $"metrics-{Guid.NewGuid():N}";                          // only this test's queue is listened to
        using var recorder = new MeterRecorder(QueueInstruments.MeterName, queueName);
        JobQueueStats stats;

        using (var queue = new JobQueue<Work, string, string>(new JobQueueOptions { Name = queueName }, Run, new CollectingLogger()))
        {
            foreach (var work in new[] { new Work(Steps: 3), new Work(Steps: 2, Throws: true) })
            {
                using var job = queue.Enqueue(work, deadline: null, CancellationToken.None);
                var reading = ReadToEndAsync(job);
                if (work.Throws)
                    await Assert.ThrowsAsync<InvalidOperationException>(() => reading.DefaultTimeout());   // the stream ends with the failure
                else
                    await reading.DefaultTimeout();
            }
            stats = queue.Stats;
        }

        var all = recorder.Measurements;
        Assert.Equal(["completed", "failed"], all.Where(m => m.Instrument == QueueInstruments.Requests).Select(m => m.Tag("outcome")!).Order());
        Assert.Equal(5ul, stats.StepsRun);                                                                      // 3 + the 2 before the failure
        Assert.Equal(2, recorder.Values(QueueInstruments.Wait).Count());
        Assert.All(recorder.Values(QueueInstruments.Duration), value => Assert.True(value >= 0));
        Assert.Equal(["completed", "failed"], all.Where(m => m.Instrument == QueueInstruments.Duration).Select(m => m.Tag("outcome")!).Order());
    }

    private static async Task ReadToEndAsync(Job<Work, string, string> job)
    {
        await foreach (var _ in job.ReadEventsAsync(TimeSpan.Zero, CancellationToken.None))
        {
        }
    }

    private static string Run(Work work, RunningJob<string> job)
    {
        for (var step = 1; step <= work.Steps; step++)
            job.Report(step, work.Steps, null);
        if (work.Throws)
            throw new InvalidOperationException("model failed");
        return "done";
    }
}
