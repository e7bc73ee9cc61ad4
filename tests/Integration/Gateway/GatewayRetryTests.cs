using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Net.Client;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Tests.Integration.Gateway.Backends;
using MultiModal.Tests.Testing;
using Xunit;
using ClipV1 = MultiModal.Contracts.Clip.V1;

namespace MultiModal.Tests.Integration.Gateway;

/// <summary>
/// Gateway:Retry with the gateway as a real process: a unary call that fails at a replica before any response byte
/// is sent once more to the other replica; streams, answers that had started and bodies over the buffer limit are
/// not. Each test has one failing and one healthy replica, with active probes off (only the passive check and the
/// retry act). Load balancing picks either replica for the first call, so a test calls until the failing replica was
/// hit: a call succeeds while it is not, and the failing replica is marked down at its first failure.
/// </summary>
public sealed partial class GatewayRetryTests : IAsyncLifetime
{
    // 50 % per call until the failing replica is hit and marked down: 30 calls all missing it has probability 1e-9.
    private const int MaxCalls = 30;
    private const string ActiveProbesOff = "--ReverseProxy:Clusters:{0}:HealthCheck:Active:Enabled=false";

    private readonly List<IAsyncDisposable> _hosts = [];
    private ServiceProcess? _gateway;
    private GrpcChannel? _channel;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        _gateway?.Dispose();
        foreach (var host in _hosts)
            await host.DisposeAsync();
    }

    [Fact]
    public async Task UnaryCall_ReplicaRefusesConnections_RetriedOnOtherReplica()
    {
        var healthy = await StartAsync(new EchoClipBackend("clip-healthy"));
        var clip = await StartGatewayAsync("clip", [new Uri(LoopbackPorts.ClosedUrl()), healthy.Address]);

        var servedBy = new List<string>();
        for (var i = 0; i < MaxCalls; i++)
            servedBy.Add((await clip.GetModelInfoAsync(new ClipV1.GetModelInfoRequest()).ResponseAsync.DefaultTimeout()).ModelName);

        Assert.All(servedBy, name => Assert.Equal("clip-healthy", name));
        await _gateway!.WaitForLogAsync(MarkedDownLine("clip-0"), 0).DefaultTimeout();
        var retry = await _gateway.WaitForLogAsync(RetryingLine(), 0).DefaultTimeout();
        Assert.Contains("clip-0", retry.Value);
    }

    [Fact]
    public async Task UnaryCall_ReplicaAnswersUnavailable_RetriedOnOtherReplica()
    {
        var failing = await StartAsync(new FailingClipBackend(FailingClipBackend.Failure.Unavailable));
        var healthy = await StartAsync(new EchoClipBackend("clip-healthy"));
        var clip = await StartGatewayAsync("clip", [failing.Address, healthy.Address]);

        var embedded = new List<float>();
        for (var i = 0; i < MaxCalls; i++)
            embedded.Add((await clip.EmbedTextsAsync(new ClipV1.EmbedTextsRequest { Texts = { "abcd" } }).ResponseAsync.DefaultTimeout()).Embeddings[0].Values[0]);

        Assert.All(embedded, value => Assert.Equal(4f, value));
        var retry = await _gateway!.WaitForLogAsync(RetryingLine(), 0).DefaultTimeout();
        Assert.Contains(FailingClipBackend.UnavailableMessage, retry.Value);
    }

    [Fact]
    public async Task UnaryCall_OnlyReplicaAnswersUnavailable_ClientGetsTheReplicasStatus()
    {
        var failing = await StartAsync(new FailingClipBackend(FailingClipBackend.Failure.Unavailable));
        var clip = await StartGatewayAsync("clip", [failing.Address]);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            clip.GetModelInfoAsync(new ClipV1.GetModelInfoRequest()).ResponseAsync).DefaultTimeout();

        // The replica's own answer, not YARP's 502 (which a gRPC client reads as "Bad gRPC response").
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(FailingClipBackend.UnavailableMessage, error.Status.Detail);
    }

    [Fact]
    public async Task StreamingCall_ReplicaRefusesConnections_NotRetried()
    {
        var scripted = new ScriptedDiffusionBackend("diffusion-healthy");
        var healthy = await StartAsync(scripted);
        var diffusion = new DiffusionService.DiffusionServiceClient((await StartGatewayChannelAsync("diffusion", [new Uri(LoopbackPorts.ClosedUrl()), healthy.Address])));

        var (error, okBefore) = await CallUntilFailureAsync(async () =>
        {
            using var call = diffusion.GenerateImage(new GenerateImageRequest { Prompt = "ok" + Guid.NewGuid().ToString("N"), Steps = 1 });
            await call.ResponseStream.ReadAllAsync().ToListAsync().AsTask().DefaultTimeout();
        });

        // A retry would have reached the healthy replica and succeeded, as the calls before it did.
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        await _gateway!.WaitForLogAsync(MarkedDownLine("diffusion-0"), 0).DefaultTimeout();
        Assert.DoesNotMatch(RetryingLine(), _gateway.Output);
        Assert.InRange(okBefore, 0, MaxCalls - 1);
    }

    [Fact]
    public async Task UnaryCall_ReplicaResetsAfterResponseHeaders_NotRetried()
    {
        var failing = await StartAsync(new FailingClipBackend(FailingClipBackend.Failure.ResetAfterHeaders));
        var healthy = await StartAsync(new EchoClipBackend("clip-healthy"));
        var clip = await StartGatewayAsync("clip", [failing.Address, healthy.Address]);

        var (error, _) = await CallUntilFailureAsync(() => clip.GetModelInfoAsync(new ClipV1.GetModelInfoRequest()).ResponseAsync);

        Assert.NotEqual(StatusCode.OK, error.StatusCode);
        await _gateway!.WaitForLogAsync(MarkedDownLine("clip-0"), 0).DefaultTimeout();
        Assert.DoesNotMatch(RetryingLine(), _gateway.Output);
    }

    [Fact]
    public async Task UnaryCall_BodyOverBufferLimit_StreamedAndNotRetried()
    {
        var healthy = await StartAsync(new EchoClipBackend("clip-healthy"));
        var clip = await StartGatewayAsync("clip", [new Uri(LoopbackPorts.ClosedUrl()), healthy.Address],
            "--Gateway:Retry:MaxBufferedRequestBytes=1024", "--Logging:LogLevel:MultiModal.Gateway.Retry=Debug");
        var text = new string('x', 2000);

        var lengths = new List<float>();
        var (error, _) = await CallUntilFailureAsync(async () =>
            lengths.Add((await clip.EmbedTextsAsync(new ClipV1.EmbedTextsRequest { Texts = { text } }).ResponseAsync).Embeddings[0].Values[0]));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.All(lengths, length => Assert.Equal(2000f, length));    // the calls that reached the replica: whole bodies
        await _gateway!.WaitForLogAsync(new Regex("request body over 1024 bytes is streamed"), 0).DefaultTimeout();
        await _gateway.WaitForLogAsync(MarkedDownLine("clip-0"), 0).DefaultTimeout();
        Assert.DoesNotMatch(RetryingLine(), _gateway.Output);
    }

    // Calls until one fails (the one that reached the failing replica); returns its error and how many succeeded first.
    private static async Task<(RpcException Error, int SucceededBefore)> CallUntilFailureAsync(Func<Task> call)
    {
        for (var i = 0; i < MaxCalls; i++)
        {
            try
            {
                await call().DefaultTimeout();
            }
            catch (RpcException error)
            {
                return (error, i);
            }
        }
        throw new Xunit.Sdk.XunitException($"none of {MaxCalls} calls reached the failing replica");
    }

    private async Task<TestBackendHost> StartAsync<TService>(TService service) where TService : class
    {
        var host = await TestBackendHost.StartAsync(service);
        _hosts.Add(host);
        return host;
    }

    private async Task<ClipV1.ClipService.ClipServiceClient> StartGatewayAsync(string cluster, Uri[] replicas, params string[] arguments) =>
        new(await StartGatewayChannelAsync(cluster, replicas, arguments));

    private async Task<GrpcChannel> StartGatewayChannelAsync(string cluster, Uri[] replicas, params string[] arguments)
    {
        _gateway = await GatewayFleet.StartGatewayAsync(cluster, replicas, [string.Format(ActiveProbesOff, cluster), .. arguments]);
        _channel = GrpcChannel.ForAddress(_gateway.Address);
        return _channel;
    }


    private static Regex MarkedDownLine(string destinationId) =>
        new($@"Destination {Regex.Escape(destinationId)} of cluster \w+ marked down");

    [GeneratedRegex("failed at destination .* retrying once on another destination")]
    private static partial Regex RetryingLine();
}
