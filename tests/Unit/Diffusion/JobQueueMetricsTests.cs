using MultiModal.Diffusion.Jobs;
using MultiModal.Tests.Testing;
using MultiModal.Tests.Unit.Core;
using Xunit;

namespace MultiModal.Tests.Unit.Diffusion;

/// <summary>The job queue's meter (<c>MultiModal.Diffusion</c>): how jobs ended, their steps, waits and run times.</summary>
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
        using var recorder = new MeterRecorder("MultiModal.Diffusion", queueName);

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
        }

        var all = recorder.Measurements;
        Assert.Equal(["completed", "failed"], all.Where(m => m.Instrument == "multimodal.diffusion.jobs").Select(m => m.Tag("outcome")!).Order());
        Assert.Equal(5, recorder.Values("multimodal.diffusion.steps").Sum());                                  // 3 + the 2 before the failure
        Assert.Equal(2, recorder.Values("multimodal.diffusion.job.wait").Count());
        Assert.All(recorder.Values("multimodal.diffusion.job.duration"), value => Assert.True(value >= 0));
        Assert.Equal(2, recorder.Values("multimodal.diffusion.job.duration").Count());
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
