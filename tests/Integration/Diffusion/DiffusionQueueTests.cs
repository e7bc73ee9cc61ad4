using Google.Rpc;
using Grpc.Core;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Tests.Testing;
using Xunit;
using static MultiModal.Tests.Integration.Diffusion.DiffusionStreams;
using EventCase = MultiModal.Contracts.Diffusion.V1.GenerateImageResponse.EventOneofCase;

namespace MultiModal.Tests.Integration.Diffusion;

/// <summary>One job at a time, in arrival order: cancellation, deadlines, a full queue, heartbeats.</summary>
[Collection(DiffusionFleetCollection.Name)]
public sealed partial class DiffusionQueueTests(DiffusionFleetFixture fleet) : IAsyncLifetime
{
    // A job that runs until the test cancels it: the most steps the fleet allows, at 4× the native area. Tests order
    // their calls on its events (its first progress, the others' queued positions), never on how fast it runs; it
    // cannot end by itself within a test's DefaultTimeout on any CPU (1000 steps would need < 30 ms a step, with a
    // 4096-token self-attention per step). Every test that starts one cancels it.
    private static readonly GenerateImageRequest Blocker = new()
    {
        Prompt = "a long job", Width = 128, Height = 128, Steps = DiffusionFleetFixture.MaxSteps, Scheduler = Scheduler.Euler,
    };

    public Task InitializeAsync() => fleet.WaitUntilIdleAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Starts <paramref name="request"/> and reads until its first progress: it is running.</summary>
    private async Task<AsyncServerStreamingCall<GenerateImageResponse>> StartRunningAsync(GenerateImageRequest request, CancellationToken cancellationToken = default)
    {
        var call = fleet.Client.GenerateImage(request, cancellationToken: cancellationToken);
        await ReadUntilAsync(call, e => e.EventCase == EventCase.Progress);
        return call;
    }

    [Fact]
    public async Task GenerateImage_CancelledAfterStepTwo_StopsWithinAStepThenServesTheNextJob()
    {
        var before = await fleet.InfoAsync();
        var stoppedBefore = StoppedAfterCancel().Matches(fleet.Diffusion.Output).Count;
        using var cancel = new CancellationTokenSource();
        // The blocker, so that it is still running whenever the cancellation arrives, however slow the network.
        var cancelled = fleet.Client.GenerateImage(Blocker, cancellationToken: cancel.Token);

        var read = await ReadUntilAsync(cancelled, e => e.Progress?.Step == 2);
        cancel.Cancel();
        var error = await Assert.ThrowsAsync<RpcException>(() => cancelled.ResponseStream.MoveNext());
        var next = await ReadAllAsync(fleet.Client.GenerateImage(new GenerateImageRequest { Prompt = "next", Steps = 3, Scheduler = Scheduler.Euler }));
        var after = await fleet.InfoAsync();

        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        Assert.Equal(2, read.Count(e => e.EventCase == EventCase.Progress));
        Assert.Equal(3u, SingleResultLast(next).StepsRun);
        Assert.Equal(before.JobsCancelled + 1, after.JobsCancelled);
        // The next job ran after the cancelled one ended: every step both ran is counted by now. How many steps ran
        // before the cancellation reached the service depends on the network and the machine's load; the service's
        // own log says how many ran after it: at most the one in progress.
        var cancelledSteps = after.DenoisingStepsRun - before.DenoisingStepsRun - 3;
        Assert.InRange(cancelledSteps, 2ul, (ulong)Blocker.Steps - 1);
        Assert.Equal(before.Stats.ItemsRun + 1, after.Stats.ItemsRun);
        var stopped = await fleet.Diffusion.WaitForLogAsync(StoppedAfterCancel(), stoppedBefore);
        Assert.Equal(cancelledSteps, ulong.Parse(stopped.Groups["steps"].Value));
        Assert.InRange(int.Parse(stopped.Groups["after"].Value), 0, 1);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"stopped after (?<steps>\d+) steps \((?<after>\d+) after the cancellation\)")]
    private static partial System.Text.RegularExpressions.Regex StoppedAfterCancel();

    // Both clients queue behind the blocker, so the second is certainly waiting while the first runs: the test moves
    // on the queued events, not on the first job being slow enough for the second call to arrive in time.
    [Fact]
    public async Task GenerateImage_TwoClientsBehindARunningJob_SecondMovesUpOnePositionPerJobAndRunsAfterFirst()
    {
        using var cancelBlocker = new CancellationTokenSource();
        using var blocker = await StartRunningAsync(Blocker, cancelBlocker.Token);
        using var first = fleet.Client.GenerateImage(new GenerateImageRequest { Prompt = "first", Steps = 15, Scheduler = Scheduler.Euler, Seed = 1 });
        var firstEvents = await ReadUntilAsync(first, e => e.EventCase == EventCase.Queued);
        using var second = fleet.Client.GenerateImage(new GenerateImageRequest { Prompt = "second", Steps = 3, Scheduler = Scheduler.Euler, Seed = 2 });
        var secondEvents = await ReadUntilAsync(second, e => e.EventCase == EventCase.Queued);

        cancelBlocker.Cancel();
        var rest = await Task.WhenAll(ReadAllAsync(first), ReadAllAsync(second));
        firstEvents.AddRange(rest[0]);
        secondEvents.AddRange(rest[1]);

        var firstResult = SingleResultLast(firstEvents);
        var secondResult = SingleResultLast(secondEvents);
        Assert.Equal([1u, 0u], firstEvents.Where(e => e.EventCase == EventCase.Queued).Select(e => e.Queued.Position).Distinct());
        var positions = secondEvents.Where(e => e.EventCase == EventCase.Queued).Select(e => e.Queued.Position).Distinct();
        Assert.Equal([2u, 1u, 0u], positions);
        Assert.Equal([.. secondEvents.TakeWhile(e => e.EventCase == EventCase.Queued)], secondEvents.Where(e => e.EventCase == EventCase.Queued));
        Assert.Equal((15u, 3u), (firstResult.StepsRun, secondResult.StepsRun));
        // Server-clock times, not the order frames arrive in: each stream's frames are encoded and written by its own
        // handler, so the first stream's last frames may reach the client after the second's first ones.
        Assert.True(secondResult.Timings.StartTime.ToDateTime() >= firstResult.Timings.EndTime.ToDateTime(),
            $"second started {secondResult.Timings.StartTime}, first ended {firstResult.Timings.EndTime}");
    }

    [Fact]
    public async Task GenerateImage_DeadlinePassesWhileQueued_DeadlineExceededHeartbeatsSentAndJobLeavesTheQueue()
    {
        var before = await fleet.InfoAsync();
        using var cancelBlocker = new CancellationTokenSource();
        using var blocker = await StartRunningAsync(Blocker, cancelBlocker.Token);

        using var late = fleet.Client.GenerateImage(new GenerateImageRequest { Prompt = "too late", Steps = 2 }, deadline: DateTime.UtcNow.AddSeconds(2.5));
        var waited = new List<GenerateImageResponse>();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await late.ResponseStream.MoveNext().DefaultTimeout())
                waited.Add(late.ResponseStream.Current);
        });
        var whileBlocked = await fleet.InfoWhenAsync(info => info.Stats.QueueDepth == 0);
        cancelBlocker.Cancel();
        await fleet.WaitUntilIdleAsync();

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.All(waited, e => Assert.Equal(1u, e.Queued.Position));
        Assert.True(waited.Count >= 2, $"expected the enqueue event and at least one heartbeat, got {waited.Count}");
        Assert.Equal(0u, whileBlocked.Stats.QueueDepth);
        Assert.Equal(before.JobsCancelled + 1, whileBlocked.JobsCancelled);
        Assert.Equal(before.Stats.BatchesRun + 1, whileBlocked.Stats.BatchesRun); // only the blocker ever started
    }

    [Fact]
    public async Task GenerateImage_QueueFull_ResourceExhaustedQueueFullWithRetryDelay()
    {
        using var cancelAll = new CancellationTokenSource();
        using var blocker = await StartRunningAsync(Blocker, cancelAll.Token);
        var waiting = new List<AsyncServerStreamingCall<GenerateImageResponse>>();
        for (var i = 0; i < DiffusionFleetFixture.MaxQueueLength; i++)
        {
            var call = fleet.Client.GenerateImage(new GenerateImageRequest { Prompt = $"waiting {i}", Steps = 1 }, cancellationToken: cancelAll.Token);
            await ReadUntilAsync(call, e => e.EventCase == EventCase.Queued);
            waiting.Add(call);
        }

        using var shed = fleet.Client.GenerateImage(new GenerateImageRequest { Prompt = "one too many", Steps = 1 });
        var error = await Assert.ThrowsAsync<RpcException>(() => shed.ResponseStream.MoveNext().DefaultTimeout());
        var info = await fleet.InfoAsync();
        cancelAll.Cancel();
        waiting.ForEach(call => call.Dispose());
        await fleet.WaitUntilIdleAsync();

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        var status = error.GetRpcStatus()!;
        Assert.Equal("QUEUE_FULL", status.GetDetail<ErrorInfo>().Reason);
        Assert.NotNull(status.GetDetail<RetryInfo>());
        Assert.Equal((uint)DiffusionFleetFixture.MaxQueueLength, info.Stats.QueueDepth);
        Assert.True(info.Stats.RequestsRejected >= 1);
    }
}
