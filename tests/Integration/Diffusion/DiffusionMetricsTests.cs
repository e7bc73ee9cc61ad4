using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Tests.Testing;
using Xunit;
using static MultiModal.Tests.Integration.Diffusion.DiffusionStreams;

namespace MultiModal.Tests.Integration.Diffusion;

/// <summary>
/// What the Diffusion service exports on /metrics: the fleet's shared queue metrics for its job queue, its own steps
/// counter, and the series the prod autoscaler (k8s/overlays/gpu/hpa-diffusion.yaml) scales on.
/// </summary>
[Collection(DiffusionFleetCollection.Name)]
public sealed class DiffusionMetricsTests(DiffusionFleetFixture fleet) : IAsyncLifetime
{
    public Task InitializeAsync() => fleet.WaitUntilIdleAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Metrics_AfterAJob_ExportTheSeriesTheProdHpaScalesOnAndTheSharedQueueMetrics()
    {
        var hpa = HpaMetric.Read("k8s/overlays/gpu/hpa-diffusion.yaml");
        SingleResultLast(await ReadAllAsync(fleet.Client.GenerateImage(new GenerateImageRequest { Prompt = "metrics", Steps = 2, Scheduler = Scheduler.Euler })));

        var scrape = await PrometheusScrape.UntilAsync(fleet.MetricsPort,
            hpa.SamplePattern(),
            @"^multimodal_inference_running\{(?=[^}]*otel_scope_queue=""diffusion"")",
            @"^multimodal_inference_requests_total\{(?=[^}]*outcome=""completed"")(?=[^}]*otel_scope_queue=""diffusion"")",
            @"^multimodal_inference_request_wait_seconds_count\{(?=[^}]*otel_scope_queue=""diffusion"")",
            @"^multimodal_inference_request_duration_seconds_count\{(?=[^}]*otel_scope_queue=""diffusion"")",
            @"^multimodal_diffusion_steps_total\{[^}]*\} [1-9]");

        Assert.Equal(new Dictionary<string, string> { ["otel_scope_queue"] = "diffusion" }, hpa.MatchLabels);
        Assert.DoesNotContain("multimodal_diffusion_queue_depth", scrape);                    // one queue-depth gauge for the fleet
        Assert.DoesNotContain("multimodal_diffusion_jobs_total", scrape);
    }
}
