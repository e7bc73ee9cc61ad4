using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Tests.Integration.Gateway.Backends;
using MultiModal.Tests.Testing;
using Xunit;
using ClipV1 = MultiModal.Contracts.Clip.V1;
using VisionV1 = MultiModal.Contracts.Vision.V1;

namespace MultiModal.Tests.Integration.Gateway;

/// <summary>The gateway process routes, streams, cancels, propagates deadlines and balances gRPC calls.</summary>
public sealed class GatewayRoutingTests(GatewayRoutingFixture fixture) : IClassFixture<GatewayRoutingFixture>
{
    private readonly ClipV1.ClipService.ClipServiceClient _clip = new(fixture.Channel);
    private readonly DiffusionService.DiffusionServiceClient _diffusion = new(fixture.Channel);

    [Fact]
    public async Task UnaryCall_EachServicePrefix_ReachesThatServicesCluster()
    {
        var embedded = await _clip.EmbedTextsAsync(new ClipV1.EmbedTextsRequest { Texts = { "a", "abc" } }).ResponseAsync.DefaultTimeout();
        var clipInfo = await _clip.GetModelInfoAsync(new ClipV1.GetModelInfoRequest()).ResponseAsync.DefaultTimeout();
        var diffusionInfo = await _diffusion.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout();

        Assert.Equal([[1f], [3f]], embedded.Embeddings.Select(e => e.Values.ToArray()));
        Assert.StartsWith("clip-", clipInfo.ModelName);
        Assert.Equal("diffusion-a", diffusionInfo.ModelName);
    }

    [Fact]
    public async Task GenerateImage_ThroughGateway_StreamsEveryProgressInOrderThenOneResult()
    {
        var request = new GenerateImageRequest { Prompt = UniquePrompt("ok"), Steps = 5, Seed = 7 };

        using var call = _diffusion.GenerateImage(request, deadline: DateTime.UtcNow.AddSeconds(30));
        var events = await call.ResponseStream.ReadAllAsync().ToListAsync().AsTask().DefaultTimeout();

        Assert.Equal([1u, 2u, 3u, 4u, 5u], events.SkipLast(1).Select(e => e.Progress.Step));
        Assert.Equal(GenerateImageResponse.EventOneofCase.Result, events[^1].EventCase);
        Assert.Equal(7ul, Assert.Single(events[^1].Result.Seeds));
    }

    [Fact]
    public async Task GenerateImage_ClientCancelsMidStream_BackendCallIsCancelled()
    {
        var prompt = UniquePrompt(ScriptedDiffusionBackend.HangPrefix);
        using var cts = new CancellationTokenSource();

        using var call = _diffusion.GenerateImage(new GenerateImageRequest { Prompt = prompt, Steps = 3 }, cancellationToken: cts.Token);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        cts.Cancel();

        await fixture.Diffusion.Call(prompt).Cancelled.Task.DefaultTimeout();
    }

    [Fact]
    public async Task GenerateImage_ManyClientCancellations_BackendStaysInRotation()
    {
        // Users cancel generations all the time; that says nothing about the backend. Twelve is past the passive
        // policy's minimum sample count, and diffusion has a single destination, so an ejection would show as 503.
        for (var i = 0; i < 12; i++)
        {
            var prompt = UniquePrompt(ScriptedDiffusionBackend.HangPrefix);
            using var cts = new CancellationTokenSource();
            using var call = _diffusion.GenerateImage(new GenerateImageRequest { Prompt = prompt, Steps = 1 }, cancellationToken: cts.Token);
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
            cts.Cancel();
            await fixture.Diffusion.Call(prompt).Cancelled.Task.DefaultTimeout();
        }

        var info = await _diffusion.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout();

        Assert.Equal("diffusion-a", info.ModelName);
    }

    [Fact]
    public async Task GenerateImage_WithDeadline_BackendSeesPropagatedDeadline()
    {
        var prompt = UniquePrompt("ok");
        var deadline = DateTime.UtcNow.AddMinutes(1);

        using var call = _diffusion.GenerateImage(new GenerateImageRequest { Prompt = prompt, Steps = 1 }, deadline: deadline);
        await call.ResponseStream.ReadAllAsync().ToListAsync().AsTask().DefaultTimeout();
        var backendDeadline = await fixture.Diffusion.Call(prompt).Started.Task.DefaultTimeout();

        // grpc-timeout carries the time left; the backend adds it to its own clock on arrival, a little later.
        Assert.InRange(backendDeadline, deadline.AddSeconds(-2), deadline.AddSeconds(10));
    }

    [Fact]
    public async Task GenerateImage_DeadlineExpiresMidStream_DeadlineExceededAndBackendCancelled()
    {
        var prompt = UniquePrompt(ScriptedDiffusionBackend.HangPrefix);

        using var call = _diffusion.GenerateImage(new GenerateImageRequest { Prompt = prompt, Steps = 3 },
            deadline: DateTime.UtcNow.AddSeconds(1));
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.ReadAllAsync().ToListAsync().AsTask()).DefaultTimeout();

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        await fixture.Diffusion.Call(prompt).Cancelled.Task.DefaultTimeout();
    }

    [Fact]
    public async Task ClipCluster_TwoHealthyDestinations_BothReceiveTraffic()
    {
        var servedBy = new HashSet<string>();

        // PowerOfTwoChoices picks the first of two random destinations when neither is busy: 40 sequential calls
        // all missing one of them has probability below 1e-6.
        for (var i = 0; i < 40; i++)
            servedBy.Add((await _clip.GetModelInfoAsync(new ClipV1.GetModelInfoRequest()).ResponseAsync.DefaultTimeout()).ModelName);

        Assert.Contains("clip-a", servedBy);
        Assert.Contains("clip-b", servedBy);
    }

    [Fact]
    public async Task ClipCluster_DestinationFailingHealthCheck_IsAvoided()
    {
        // ConsecutiveFailures marks a destination unhealthy after 2 failed probes; the 3rd arriving means 2 finished.
        await WaitUntilAsync(() => fixture.ClipFailingHealthCheck.HealthProbes >= 3).DefaultTimeout();

        var servedBy = new List<string>();
        for (var i = 0; i < 20; i++)
            servedBy.Add((await _clip.GetModelInfoAsync(new ClipV1.GetModelInfoRequest()).ResponseAsync.DefaultTimeout()).ModelName);

        Assert.DoesNotContain("clip-sick", servedBy);
    }

    [Fact]
    public async Task VisionCall_UpstreamsUnresolvableOrRefusing_Unavailable()
    {
        var vision = new VisionV1.VisionService.VisionServiceClient(fixture.Channel);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            vision.GetModelInfoAsync(new VisionV1.GetModelInfoRequest(), deadline: DateTime.UtcNow.AddSeconds(20)).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task GatewayHealth_HttpAndGrpc_ReportServing()
    {
        using var http = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var health = new Health.HealthClient(fixture.Channel);

        using var healthz = await http.GetAsync(new Uri(fixture.Gateway.Address, "/healthz")).DefaultTimeout();
        var readiness = await health.CheckAsync(new HealthCheckRequest { Service = "readiness" }).ResponseAsync.DefaultTimeout();

        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, readiness.Status);
    }

    private static string UniquePrompt(string prefix) => prefix + Guid.NewGuid().ToString("N");

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        while (!condition())
            await Task.Delay(50);
    }
}
