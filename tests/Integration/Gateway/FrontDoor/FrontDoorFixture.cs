using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using MultiModal.Tests.Integration.Gateway.Backends;
using MultiModal.Tests.Testing;
using Xunit;
using ClipV1 = MultiModal.Contracts.Clip.V1;

namespace MultiModal.Tests.Integration.Gateway.FrontDoor;

/// <summary>
/// The gateway as a real process with API keys on (a keys file in a temporary folder, as a mounted Secret) in front
/// of in-test backends: clip → an echo backend; diffusion → a scripted backend; vision → a backend the health tests
/// stop plus a closed port (a replica that is down from the start). Request bodies are capped at <see cref="MaxBodyBytes"/>; probes run every 200 ms.
/// Each limit test has a key of its own, so the tests do not drain each other's buckets.
/// </summary>
public sealed class FrontDoorFixture : IAsyncLifetime
{
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>Plenty of room: the key the routing, reflection-independent and size tests use.</summary>
    public static readonly TestKey Alice = new("alice", "alice-secret-key", 1000, 1000, 100);
    /// <summary>Two calls, then one token every 20 s.</summary>
    public static readonly TestKey UnaryLimited = new("unary-limited", "unary-limited-key", 0.05, 2, 100);
    public static readonly TestKey StreamLimited = new("stream-limited", "stream-limited-key", 0.05, 2, 100);
    /// <summary>A bucket of 5: one GenerateImage (weight 20, capped at the bucket) empties it.</summary>
    public static readonly TestKey Weighted = new("weighted", "weighted-key", 0.05, 5, 100);
    public static readonly TestKey RestLimited = new("rest-limited", "rest-limited-key", 0.05, 1, 100);
    /// <summary>One call open at a time.</summary>
    public static readonly TestKey Narrow = new("narrow", "narrow-key", 1000, 1000, 1);

    public static IReadOnlyList<TestKey> Keys { get; } = [Alice, UnaryLimited, StreamLimited, Weighted, RestLimited, Narrow];

    public ScriptedDiffusionBackend Diffusion { get; } = new("diffusion-a");
    public TestBackendHost Vision { get; private set; } = null!;
    public ServiceProcess Gateway { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    /// <summary>The gateway's Prometheus port (<c>GET /metrics</c>).</summary>
    public int MetricsPort { get; } = PrometheusScrape.FreePort();
    public string KeysFile { get; } = Path.Combine(Directory.CreateTempSubdirectory("gateway-keys-").FullName, "keys.json");

    private TestBackendHost[] _hosts = [];

    public async Task InitializeAsync()
    {
        WriteKeysFile(Keys);
        var clip = await TestBackendHost.StartAsync(new EchoClipBackend("clip-a"));
        var diffusion = await TestBackendHost.StartAsync(Diffusion);
        // The gateway does not look inside calls: any healthy gRPC host stands in for vision's replica.
        Vision = await TestBackendHost.StartAsync(new EchoClipBackend("vision-stand-in"));
        _hosts = [clip, diffusion, Vision];

        Gateway = await ServiceProcess.StartAsync(BuildOutputs.Dll("gateway", "Gateway"),
        [
            $"--Gateway:ApiKeysFile={KeysFile}",
            $"--Gateway:MaxRequestBodyBytes={MaxBodyBytes}",
            $"--Telemetry:PrometheusPort={MetricsPort}",
            "--Telemetry:PrometheusHost=127.0.0.1",
            $"--Gateway:Upstreams:Clip={clip.Address}",
            $"--Gateway:Upstreams:Diffusion={diffusion.Address}",
            $"--Gateway:Upstreams:Vision={Vision.Address},{LoopbackPorts.ClosedUrl()}",
            "--ReverseProxy:Clusters:clip:HealthCheck:Active:Interval=00:00:00.200",
            "--ReverseProxy:Clusters:vision:HealthCheck:Active:Interval=00:00:00.200",
            "--ReverseProxy:Clusters:diffusion:HealthCheck:Active:Interval=00:00:00.200",
        ]);
        Channel = GrpcChannel.ForAddress(Gateway.Address);
        var clipClient = new ClipV1.ClipService.ClipServiceClient(Channel);
        await GatewayFleet.WaitUntilRoutedAsync(deadline =>
            clipClient.GetModelInfoAsync(new ClipV1.GetModelInfoRequest(), Alice.Bearer, deadline).ResponseAsync);
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        Gateway?.Dispose();
        foreach (var host in _hosts)
            await host.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(KeysFile)!, recursive: true);
    }

    /// <summary>Replaces the keys file the way an operator (or a Secret update) does: a new file moved over the old.</summary>
    public void WriteKeysFile(IEnumerable<TestKey> keys)
    {
        var json = JsonSerializer.Serialize(new
        {
            keys = keys.Select(k => new
            {
                name = k.Name, sha256 = k.Sha256, requestsPerSecond = k.RequestsPerSecond, burst = k.Burst, maxConcurrent = k.MaxConcurrent,
            }),
        });
        var temporary = KeysFile + ".tmp";
        File.WriteAllText(temporary, json);
        File.Move(temporary, KeysFile, overwrite: true);
    }

}

/// <summary>A key, its configured limits, and the headers that present it.</summary>
public sealed record TestKey(string Name, string Key, double RequestsPerSecond, int Burst, int MaxConcurrent)
{
    public string Sha256 => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key)));
    public Metadata Bearer => new() { { "authorization", $"Bearer {Key}" } };
    public Metadata XApiKey => new() { { "x-api-key", Key } };
}

[CollectionDefinition(Name)]
public sealed class FrontDoorCollection : ICollectionFixture<FrontDoorFixture>
{
    public const string Name = "Gateway front door";
}
