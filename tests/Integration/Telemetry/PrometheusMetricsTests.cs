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
    private readonly int _clipPort = PrometheusScrape.FreePort(), _gatewayPort = PrometheusScrape.FreePort();
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
        await PrometheusScrape.UntilAsync(_clipPort,
            "multimodal_inference_batch_size_bucket", "multimodal_inference_queue_depth",
            // The shared queue metrics, labelled with the queue's name (the meter's tag).
            @"^multimodal_inference_requests_total\{(?=[^}]*outcome=""completed"")(?=[^}]*otel_scope_queue=""clip"")",
            @"^multimodal_inference_request_wait_seconds_count\{(?=[^}]*otel_scope_queue=""clip"")",
            @"^multimodal_inference_running\{(?=[^}]*otel_scope_queue=""clip"")",
            @"http_server_request_duration_seconds_count\{[^}]*/multimodal\.clip\.v1\.ClipService/EmbedTexts");
        await PrometheusScrape.UntilAsync(_gatewayPort,
            "http_client_request_duration_seconds_bucket",                                    // the gateway's calls to the service
            "http_server_request_duration_seconds_count");                                    // calls into the gateway
    }

    public Task DisposeAsync()
    {
        _channel.Dispose();
        _gateway.Dispose();
        _clip.Dispose();
        return Task.CompletedTask;
    }
}
