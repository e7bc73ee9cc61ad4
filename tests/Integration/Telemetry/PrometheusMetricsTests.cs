using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Tests.Integration.Clip;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Telemetry;

/// <summary>
/// Telemetry:PrometheusPort: the CLIP service and the gateway, as real processes, each serve GET /metrics in the
/// Prometheus text format on their own HTTP/1.1 port, with the fleet's queue metrics and per-RPC server metrics.
/// </summary>
public sealed class PrometheusMetricsTests : IAsyncLifetime
{
    private readonly int _clipPort = FreePort(), _gatewayPort = FreePort();
    private ServiceProcess _clip = null!, _gateway = null!;
    private GrpcChannel _channel = null!;

    public async Task InitializeAsync()
    {
        _clip = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Clip", "Clip"),
            [$"--Clip:ModelPath={ClipFleetFixture.ModelFolder}", $"--Telemetry:PrometheusPort={_clipPort}"]);
        _gateway = await GatewayFleet.StartGatewayAsync("clip", _clip.Address, [$"--Telemetry:PrometheusPort={_gatewayPort}"]);
        _channel = GrpcChannel.ForAddress(_gateway.Address);
    }

    [Fact]
    public async Task Metrics_AfterEmbedTextsThroughTheGateway_ServiceAndGatewayExposeThem()
    {
        var client = new ClipService.ClipServiceClient(_channel);
        await GatewayFleet.WaitUntilRoutedAsync(deadline => client.GetModelInfoAsync(new GetModelInfoRequest(), deadline: deadline).ResponseAsync);
        await client.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "a photo of a cat" } }).ResponseAsync.DefaultTimeout();

        // Server metrics are recorded when a request ends, which may be just after the client has its answer: wait
        // until every expected series is there.
        await ScrapeUntilAsync(_clipPort,
            "multimodal_inference_batch_size_bucket", "multimodal_inference_queue_depth",
            @"http_server_request_duration_seconds_count\{[^}]*/multimodal\.clip\.v1\.ClipService/EmbedTexts");
        await ScrapeUntilAsync(_gatewayPort,
            "http_client_request_duration_seconds_bucket",                                    // the gateway's calls to the service
            "http_server_request_duration_seconds_count");                                    // calls into the gateway
    }

    // The exporter collects at scrape time (and caches for 300 ms): scrape until every pattern matches.
    private static async Task ScrapeUntilAsync(int port, params string[] patterns)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + MultiModal.Tests.Testing.TaskExtensions.DefaultTimeoutSpan;
        while (true)
        {
            string text;
            try
            {
                text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
            }
            catch (HttpRequestException e) when (DateTime.UtcNow < deadline)
            {
                text = e.Message;                                                                 // not listening yet
            }
            var missing = patterns.Where(p => !System.Text.RegularExpressions.Regex.IsMatch(text, p)).ToList();
            if (missing.Count == 0)
                return;
            Assert.True(DateTime.UtcNow < deadline, $"no {string.Join(", ", missing)} on port {port}:\n{text}");
            await Task.Delay(200);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public Task DisposeAsync()
    {
        _channel.Dispose();
        _gateway.Dispose();
        _clip.Dispose();
        return Task.CompletedTask;
    }
}
