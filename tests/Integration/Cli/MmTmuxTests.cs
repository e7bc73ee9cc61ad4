using System.Text.RegularExpressions;
using Grpc.Core;
using MultiModal.Tests.Testing;
using Xunit;
using DiffusionV1 = MultiModal.Contracts.Diffusion.V1;

namespace MultiModal.Tests.Integration.Cli;

/// <summary>
/// <c>./mm generate</c> in a real terminal (tmux, 120×30), driven as a person drives it: typed, watched, stopped with
/// Ctrl-C. The job first waits behind another (the bar reads its queue position), then runs (the bar's step grows
/// between two captures), then Ctrl-C cancels the call and the service logs the job as stopped.
/// </summary>
[Collection(CliFleetCollection.Name)]
public sealed partial class MmTmuxTests(CliFleetFixture fleet)
{
    [Fact]
    public async Task Generate_InTmux_ShowsQueueThenAdvancingBarAndCtrlCCancelsTheServerJob()
    {
        var stopped = JobStopped();
        var stoppedBefore = stopped.Matches(fleet.Diffusion.Output).Count;
        var cancelledBefore = (await DiffusionInfoAsync()).JobsCancelled;
        // A job ahead of mm's, running until this test cancels it. Euler at 128×128: ~100 ms a step here, and PNDM (the
        // model's own) fails at 1000 steps on this model.
        using var blockerCancel = new CancellationTokenSource();
        using var blocker = fleet.DiffusionClient.GenerateImage(
            new DiffusionV1.GenerateImageRequest { Prompt = "blocker", Steps = CliFleetFixture.MaxSteps, Seed = 1, Scheduler = DiffusionV1.Scheduler.Euler, Width = 128, Height = 128 }, cancellationToken: blockerCancel.Token);
        while (await blocker.ResponseStream.MoveNext().DefaultTimeout() && blocker.ResponseStream.Current.EventCase != DiffusionV1.GenerateImageResponse.EventOneofCase.Progress)
        {
        }
        using var terminal = await TmuxSession.StartAsync(120, 30, Directory.CreateTempSubdirectory("mm-tmux-").FullName,
            new Dictionary<string, string> { ["MM_GATEWAY"] = fleet.GatewayAddress, ["TERM"] = "xterm-256color", ["LANG"] = "C.UTF-8" });

        await terminal.TypeAsync($"{Path.Combine(TestPaths.RepoRoot, "mm")} generate \"a lighthouse at dusk\" --steps {CliFleetFixture.MaxSteps} --scheduler euler -W 128 -H 128 --seed 3; echo \"mm exited $?\"");
        await terminal.PressAsync("Enter");
        await terminal.WaitForAsync(Queued(), m => m.Groups[1].Value == "1");
        blockerCancel.Cancel();
        await fleet.Diffusion.WaitForLogAsync(stopped, stoppedBefore);           // the blocker is gone: mm's job starts
        var first = await terminal.WaitForAsync(Step(), m => int.Parse(m.Groups[1].Value) >= 1);
        var second = await terminal.WaitForAsync(Step(), m => int.Parse(m.Groups[1].Value) > int.Parse(first.Groups[1].Value));
        var screen = await terminal.CaptureAsync();
        await terminal.PressAsync("C-c");
        var exited = await terminal.WaitForAsync(Exited());
        var log = await fleet.Diffusion.WaitForLogAsync(stopped, stoppedBefore + 1);
        var info = await DiffusionInfoAsync();

        Assert.Contains("steps/s", screen);
        Assert.Contains("ETA", screen);
        Assert.Contains("━", screen);                                            // the bar itself
        Assert.Equal("130", exited.Groups[1].Value);
        Assert.Contains("mm: cancelled", await terminal.CaptureAsync());
        Assert.True(int.Parse(log.Groups[1].Value) < CliFleetFixture.MaxSteps, log.Value);
        Assert.True(int.Parse(log.Groups[1].Value) >= int.Parse(second.Groups[1].Value), $"{log.Value} vs bar at {second.Value}");
        Assert.Equal(cancelledBefore + 2, info.JobsCancelled);
    }

    private async Task<DiffusionV1.GetModelInfoResponse> DiffusionInfoAsync() =>
        await fleet.DiffusionClient.GetModelInfoAsync(new DiffusionV1.GetModelInfoRequest()).ResponseAsync.DefaultTimeout();

    // CoreLog.JobCancelledWhileRunning, logged by the service's job queue.
    [GeneratedRegex(@"job \d+ stopped after (\d+) steps")]
    private static partial Regex JobStopped();

    [GeneratedRegex(@"queued: position (\d+)")]
    private static partial Regex Queued();

    [GeneratedRegex(@"step (\d+)/1000\b")]
    private static partial Regex Step();

    [GeneratedRegex(@"mm exited (\d+)")]
    private static partial Regex Exited();
}
