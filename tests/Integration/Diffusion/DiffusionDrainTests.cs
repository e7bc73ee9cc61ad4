using System.Text.RegularExpressions;
using Google.Rpc;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Tests.Testing;
using Xunit;
using static MultiModal.Tests.Integration.Diffusion.DiffusionStreams;
using EventCase = MultiModal.Contracts.Diffusion.V1.GenerateImageResponse.EventOneofCase;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace MultiModal.Tests.Integration.Diffusion;

/// <summary>
/// Graceful drain, what a Kubernetes rolling update does: each test starts its own Diffusion process (the tiny-sd
/// pipeline), sends it SIGTERM while work runs, and checks what clients see, the service's log and its exit code.
/// Synchronised on progress frames, log lines and health answers; a running job's steps are the only clock.
/// </summary>
public sealed partial class DiffusionDrainTests
{
    // Far longer than any check a test makes while it runs (1000 steps at 4× the native area): it ends only when
    // its client cancels it or the drain time cancels it.
    private static readonly GenerateImageRequest Endless = new()
    {
        Prompt = "a very long job", Width = 128, Height = 128, Steps = 1000, Scheduler = Scheduler.Euler,
    };

    private static async Task<(ServiceProcess Service, GrpcChannel Channel)> StartAsync(int drainSeconds)
    {
        var service = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Diffusion", "Diffusion"),
        [
            $"--Diffusion:ModelPath={DiffusionFleetFixture.PipelineFolder}",
            "--Diffusion:ModelName=tiny-sd",
            "--Diffusion:MaxSteps=1000",
            $"--Diffusion:DrainSeconds={drainSeconds}",
        ]);
        return (service, GrpcChannel.ForAddress(service.Address, new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20 }));
    }

    private static async Task<AsyncServerStreamingCall<GenerateImageResponse>> StartRunningAsync(
        DiffusionService.DiffusionServiceClient client, GenerateImageRequest request, CancellationToken cancellationToken = default)
    {
        var call = client.GenerateImage(request, cancellationToken: cancellationToken);
        await ReadUntilAsync(call, e => e.EventCase == EventCase.Progress);
        return call;
    }

    private static async Task<ServingStatus> ReadinessAsync(GrpcChannel channel) =>
        (await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest { Service = "readiness" }).ResponseAsync.DefaultTimeout()).Status;

    private static void AssertDraining(RpcException error)
    {
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        var status = error.GetRpcStatus();
        Assert.NotNull(status);
        Assert.Equal("DRAINING", status.GetDetail<ErrorInfo>().Reason);
        Assert.NotNull(status.GetDetail<RetryInfo>());
    }

    [Fact]
    public async Task Sigterm_GenerationInProgress_ReadinessNotServingThenGenerationCompletesAndProcessExitsZero()
    {
        // A drain time far beyond the job's length on any machine: the job must end by itself.
        var (service, channel) = await StartAsync(drainSeconds: 300);
        using var _ = service;
        using var __ = channel;
        var client = new DiffusionService.DiffusionServiceClient(channel);
        Assert.Equal(ServingStatus.Serving, await ReadinessAsync(channel));
        using var running = await StartRunningAsync(client, new GenerateImageRequest { Prompt = "finish me", Steps = 120, Scheduler = Scheduler.Euler, Seed = 3 });

        await service.SendSigtermAsync();
        await service.WaitForLogAsync(DrainStarted(), 0);
        var readiness = await ReadinessAsync(channel);
        var readinessAnsweredAt = DateTime.UtcNow;
        var rest = await ReadAllAsync(running);
        await service.WaitForExitAsync().DefaultTimeout();

        Assert.Equal(ServingStatus.NotServing, readiness);
        var result = SingleResultLast(rest);
        Assert.Equal(120u, result.StepsRun);
        // Readiness said NOT_SERVING while the job still ran (the service's clock is this machine's clock).
        Assert.True(readinessAnsweredAt < result.Timings.EndTime.ToDateTime(),
            $"readiness answered at {readinessAnsweredAt:O}, the job ended at {result.Timings.EndTime}");
        var started = DrainStarted().Match(service.Output);
        Assert.Equal("1", started.Groups["inFlight"].Value);
        Assert.Matches(Drained(), service.Output);
        Assert.DoesNotMatch(DrainTimeRanOut(), service.Output);
        Assert.Matches(HostStopped(), service.Output);
        Assert.Equal(0, service.ExitCode);
    }

    [Fact]
    public async Task Sigterm_NewCallWhileDraining_UnavailableDrainingWithRetryInfoWhileHealthAndInfoStillAnswer()
    {
        var (service, channel) = await StartAsync(drainSeconds: 60);
        using var _ = service;
        using var __ = channel;
        var client = new DiffusionService.DiffusionServiceClient(channel);
        using var cancelRunning = new CancellationTokenSource();
        using var running = await StartRunningAsync(client, Endless, cancelRunning.Token);

        await service.SendSigtermAsync();
        await service.WaitForLogAsync(DrainStarted(), 0);
        using var refused = client.GenerateImage(new GenerateImageRequest { Prompt = "too late", Steps = 1 });
        var error = await Assert.ThrowsAsync<RpcException>(() => refused.ResponseStream.MoveNext().DefaultTimeout());
        var liveness = (await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest { Service = "liveness" }).ResponseAsync.DefaultTimeout()).Status;
        var readiness = await ReadinessAsync(channel);
        // The running job kept going meanwhile.
        await ReadUntilAsync(running, e => e.EventCase == EventCase.Progress);
        cancelRunning.Cancel();
        await service.WaitForExitAsync().DefaultTimeout();

        AssertDraining(error);
        Assert.Equal("60", error.GetRpcStatus()!.GetDetail<ErrorInfo>().Metadata["drainSeconds"]);
        Assert.Equal(ServingStatus.Serving, liveness);
        Assert.Equal(ServingStatus.NotServing, readiness);
        Assert.Matches(Drained(), service.Output);
        Assert.Equal(0, service.ExitCode);
    }

    [Fact]
    public async Task Sigterm_GenerationLongerThanDrainTime_CancelledAtTheLimitWithUnavailableDrainingAndProcessExitsZero()
    {
        var (service, channel) = await StartAsync(drainSeconds: 1);
        using var _ = service;
        using var __ = channel;
        var client = new DiffusionService.DiffusionServiceClient(channel);
        using var running = await StartRunningAsync(client, Endless);

        await service.SendSigtermAsync();
        var error = await Assert.ThrowsAsync<RpcException>(async () => await ReadAllAsync(running));
        await service.WaitForExitAsync().DefaultTimeout();

        AssertDraining(error);
        Assert.Contains("drain time (1 s) ran out", error.Status.Detail);
        var ranOut = DrainTimeRanOut().Match(service.Output);
        Assert.True(ranOut.Success, service.Output);
        Assert.Equal("1", ranOut.Groups["cancelled"].Value);
        Assert.Matches(CancelledCallsEnded(), service.Output);
        Assert.DoesNotMatch(Drained(), service.Output);
        Assert.Matches(HostStopped(), service.Output);
        Assert.Equal(0, service.ExitCode);
    }

    [Fact]
    public async Task Sigterm_JobQueuedNotStarted_AnsweredUnavailableDrainingWhileTheRunningJobGoesOn()
    {
        var (service, channel) = await StartAsync(drainSeconds: 60);
        using var _ = service;
        using var __ = channel;
        var client = new DiffusionService.DiffusionServiceClient(channel);
        using var cancelRunning = new CancellationTokenSource();
        using var running = await StartRunningAsync(client, Endless, cancelRunning.Token);
        using var queued = client.GenerateImage(new GenerateImageRequest { Prompt = "waiting", Steps = 2 });
        await ReadUntilAsync(queued, e => e.Queued?.Position == 1);

        await service.SendSigtermAsync();
        var error = await Assert.ThrowsAsync<RpcException>(async () => await ReadAllAsync(queued));
        // Answered before the running job ended: it still sends progress afterwards.
        await ReadUntilAsync(running, e => e.EventCase == EventCase.Progress);
        cancelRunning.Cancel();
        await service.WaitForExitAsync().DefaultTimeout();

        AssertDraining(error);
        var started = DrainStarted().Match(service.Output);
        Assert.Equal("2", started.Groups["inFlight"].Value);
        Assert.Equal("1", started.Groups["rejected"].Value);
        Assert.Equal(0, service.ExitCode);
    }

    [GeneratedRegex(@"Drain started: readiness NOT_SERVING.*?; (?<inFlight>\d+) calls in flight, (?<rejected>\d+) of them waiting")]
    private static partial Regex DrainStarted();

    [GeneratedRegex(@"Drained in \d+ ms")]
    private static partial Regex Drained();

    [GeneratedRegex(@"Drain time \(1 s\) ran out after \d+ ms: cancelling (?<cancelled>\d+) calls")]
    private static partial Regex DrainTimeRanOut();

    [GeneratedRegex(@"cancelled calls ended \d+ ms after the drain started")]
    private static partial Regex CancelledCallsEnded();

    [GeneratedRegex(@"diffusion stopped \d+ ms after the drain started")]
    private static partial Regex HostStopped();
}
