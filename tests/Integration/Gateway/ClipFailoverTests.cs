using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Net.Client;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Tests.Integration.Clip;
using MultiModal.Tests.Testing;
using Xunit;
using Xunit.Abstractions;

namespace MultiModal.Tests.Integration.Gateway;

/// <summary>
/// Issue 9's failover check with real processes: the gateway in front of two CLIP replicas (tiny-clip) under a load
/// of concurrent EmbedTexts clients; one replica is killed with SIGKILL mid-load and started again on its port.
/// Every call must succeed (retries), the gateway must mark the replica down within <see cref="MarkDownBound"/>, and
/// the restarted replica must serve again within <see cref="ServeAgainBound"/> of answering its /healthz with 200.
/// Load: <c>FAILOVER_SECONDS</c> (default 8, for CI) and <c>FAILOVER_CLIENTS</c> (default 32);
/// <c>make test-failover</c> runs 32 clients for 30 s. Calls per replica are read from each replica's own
/// Prometheus counter of EmbedTexts requests.
/// </summary>
public sealed partial class ClipFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>From the kill to the gateway's "marked down" line: the first call that meets the dead connection.</summary>
    private static readonly TimeSpan MarkDownBound = TimeSpan.FromSeconds(2);

    /// <summary>From the replica's first 200 on /healthz to its first served EmbedTexts (issue 9: 15 s).</summary>
    private static readonly TimeSpan ServeAgainBound = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan LoadDuration = TimeSpan.FromSeconds(EnvInt("FAILOVER_SECONDS", 8));
    private static readonly int Clients = EnvInt("FAILOVER_CLIENTS", 32);

    private readonly int[] _metricsPorts = [PrometheusScrape.FreePort(), PrometheusScrape.FreePort()];
    private readonly ServiceProcess?[] _replicas = new ServiceProcess?[2];
    private ServiceProcess _gateway = null!;
    private GrpcChannel _channel = null!;

    public async Task InitializeAsync()
    {
        for (var i = 0; i < 2; i++)
            _replicas[i] = await StartReplicaAsync(i, port: 0);
        _gateway = await GatewayFleet.StartGatewayAsync("clip", [_replicas[0]!.Address, _replicas[1]!.Address]);
        _channel = GrpcChannel.ForAddress(_gateway.Address);
        var client = new ClipService.ClipServiceClient(_channel);
        await GatewayFleet.WaitUntilRoutedAsync(deadline => client.GetModelInfoAsync(new GetModelInfoRequest(), deadline: deadline).ResponseAsync);
    }

    public Task DisposeAsync()
    {
        _channel?.Dispose();
        _gateway?.Dispose();
        foreach (var replica in _replicas)
            replica?.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task UnaryLoad_OneOfTwoReplicasKilledAndRestarted_NoCallLostAndBalancingRestored()
    {
        var client = new ClipService.ClipServiceClient(_channel);
        var port = _replicas[0]!.Address.Port;
        using var stop = new CancellationTokenSource();
        var load = new Load();
        var clock = Stopwatch.StartNew();
        var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(() => load.RunClientAsync(client, c, stop.Token))).ToArray();

        // 1. Both replicas serve, then replica 0 (destination clip-0) is killed with SIGKILL after a quarter of the load.
        await WaitUntilAsync(async () => await EmbedTextsServedAsync(0) > 0 && await EmbedTextsServedAsync(1) > 0).DefaultTimeout();
        await Task.Delay(Max(TimeSpan.Zero, LoadDuration / 4 - clock.Elapsed));
        var markedDownBefore = MarkedDownLine().Matches(_gateway.Output).Count;
        var killedAt = clock.Elapsed;
        _replicas[0]!.Dispose();                                             // Process.Kill: SIGKILL, as kill -9
        _replicas[0] = null;

        // 2. The gateway marks it down (the first call to meet the dead connection), and retries those calls on replica 1.
        await _gateway.WaitForLogAsync(MarkedDownLine(), markedDownBefore).DefaultTimeout();
        var markDown = clock.Elapsed - killedAt;

        // 3. Restarted on the same port; ready when its /healthz answers 200; serving again when its counter moves.
        _replicas[0] = await StartReplicaAsync(0, port);
        await WaitUntilAsync(() => HealthzOkAsync(port)).DefaultTimeout();
        var readyAt = clock.Elapsed;
        await WaitUntilAsync(async () => await EmbedTextsServedAsync(0) > 0).WaitAsync(ServeAgainBound + TimeSpan.FromSeconds(5));
        var serveAgain = clock.Elapsed - readyAt;
        var survivorAtRestore = await EmbedTextsServedAsync(1);

        // 4. The load runs its full length and at least 2 s past the restore, so both replicas' shares are visible.
        await Task.Delay(Max(TimeSpan.FromSeconds(2), LoadDuration - clock.Elapsed));
        var (restartedServed, survivorServed) = (await EmbedTextsServedAsync(0), await EmbedTextsServedAsync(1) - survivorAtRestore);
        await stop.CancelAsync();
        await Task.WhenAll(clients).DefaultTimeout();

        var retries = RetryingLine().Matches(_gateway.Output).Count;
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"failover: {Clients} clients, {clock.Elapsed.TotalSeconds:F1} s: {load.Ok + load.Failed} calls, {load.Failed} failed, " +
            $"{retries} retried; killed at {killedAt.TotalSeconds:F1} s, marked down after {markDown.TotalMilliseconds:F0} ms " +
            $"(bound {MarkDownBound.TotalSeconds:F0} s); serving again {serveAgain.TotalSeconds:F2} s after ready " +
            $"(bound {ServeAgainBound.TotalSeconds:F0} s); after the restore: restarted replica {restartedServed} calls, " +
            $"survivor {survivorServed}");
        output.WriteLine(summary);
        BoundLog.AtMost("mark down (s)", markDown.TotalSeconds, MarkDownBound.TotalSeconds);
        BoundLog.AtMost("serve again after ready (s)", serveAgain.TotalSeconds, ServeAgainBound.TotalSeconds);

        Assert.True(load.Failed == 0, $"{summary}\nfirst failures:\n{string.Join('\n', load.FirstFailures)}");
        Assert.True(load.Ok > Clients, summary);
        Assert.True(markDown <= MarkDownBound, summary);
        Assert.True(serveAgain <= ServeAgainBound, summary);
        Assert.True(restartedServed > 0 && survivorServed > 0, summary);
    }

    /// <summary>Counts calls; each client calls EmbedTexts in a loop until stopped.</summary>
    private sealed class Load
    {
        private int _ok, _failed;
        public int Ok => Volatile.Read(ref _ok);
        public int Failed => Volatile.Read(ref _failed);
        public List<string> FirstFailures { get; } = [];

        public async Task RunClientAsync(ClipService.ClipServiceClient client, int id, CancellationToken stop)
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    // No cancellation token: a call that started finishes and counts, even as the load stops.
                    await client.EmbedTextsAsync(new EmbedTextsRequest { Texts = { $"a photo of cat {id}.{i}" } },
                        deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync;
                    Interlocked.Increment(ref _ok);
                }
                catch (RpcException e)
                {
                    Interlocked.Increment(ref _failed);
                    lock (FirstFailures)
                        if (FirstFailures.Count < 5)
                            FirstFailures.Add($"client {id} call {i}: {e.Status}");
                }
            }
        }
    }

    private Task<ServiceProcess> StartReplicaAsync(int index, int port) =>
        ServiceProcess.StartAsync(BuildOutputs.Dll("services/Clip", "Clip"),
        [
            $"--Clip:ModelPath={ClipFleetFixture.ModelFolder}",
            $"--Telemetry:PrometheusPort={_metricsPorts[index]}",
            .. port == 0 ? Array.Empty<string>() : ["--urls", $"http://127.0.0.1:{port}"],    // the later --urls wins
        ]);

    // EmbedTexts requests the replica finished (ASP.NET Core's server metric, summed over its label sets); 0 while
    // the replica or its metrics listener is not up.
    private async Task<long> EmbedTextsServedAsync(int index)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            var text = await http.GetStringAsync($"http://127.0.0.1:{_metricsPorts[index]}/metrics");
            return EmbedTextsCount().Matches(text).Sum(m => long.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return 0;
        }
    }

    private static async Task<bool> HealthzOkAsync(int port)
    {
        using var http = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact, Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{port}/healthz");
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        while (!await condition())
            await Task.Delay(100);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;

    [GeneratedRegex(@"^http_server_request_duration_seconds_count\{[^}]*ClipService/EmbedTexts[^}]*\} (?<count>\d+)", RegexOptions.Multiline)]
    private static partial Regex EmbedTextsCount();

    [GeneratedRegex(@"Destination clip-0 of cluster clip marked down")]
    private static partial Regex MarkedDownLine();

    [GeneratedRegex("failed at destination .* retrying once on another destination")]
    private static partial Regex RetryingLine();
}
