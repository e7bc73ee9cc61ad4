using MultiModal.Core.Inference;
using MultiModal.Diffusion;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Unit.Core;

/// <summary>
/// The prod autoscaler scales on a series the Diffusion service exports: the Prometheus name of the shared queue-depth
/// gauge, selected by its queue's label. (tests/Integration/Diffusion/DiffusionMetricsTests checks the same line
/// against a real scrape.)
/// </summary>
public sealed class HpaMetricTests
{
    /// <summary>How the OpenTelemetry Prometheus exporter names an instrument: dots → underscores, unit "s" → _seconds, counters _total; {annotations} dropped.</summary>
    private static string PrometheusName(string name, string unit, string kind) =>
        name.Replace('.', '_') + (unit == "s" ? "_seconds" : "") + (kind == "counter" ? "_total" : "");

    [Fact]
    public void HpaDiffusion_Metric_IsTheQueueDepthGaugeOfTheDiffusionQueue()
    {
        var hpa = HpaMetric.Read("k8s/overlays/gpu/hpa-diffusion.yaml");
        var exported = QueueInstruments.All.ToDictionary(i => i.Name, i => PrometheusName(i.Name, i.Unit, i.Kind));

        Assert.Equal(exported[QueueInstruments.QueueDepth], hpa.Name);
        Assert.Equal("multimodal_inference_queue_depth", hpa.Name);
        Assert.Equal(new Dictionary<string, string> { ["otel_scope_queue"] = DiffusionRunner.QueueName }, hpa.MatchLabels);
    }

    [Fact]
    public void HpaVision_Metric_IsTheQueueDepthGaugeOfTheVisionQueue()
    {
        var hpa = HpaMetric.Read("k8s/overlays/gpu/hpa-vision.yaml");
        var exported = QueueInstruments.All.ToDictionary(i => i.Name, i => PrometheusName(i.Name, i.Unit, i.Kind));

        Assert.Equal(exported[QueueInstruments.QueueDepth], hpa.Name);
        Assert.Equal(new Dictionary<string, string> { ["otel_scope_queue"] = MultiModal.Vision.Local.LocalLlavaBackend.QueueName }, hpa.MatchLabels);
    }

    [Fact]
    public void PrometheusAdapterRule_ExposesTheMetricTheHpasScaleOnPerPod()
    {
        var rules = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "k8s", "monitoring", "prometheus-adapter-rules.yaml"));
        var name = HpaMetric.Read("k8s/overlays/gpu/hpa-diffusion.yaml").Name;

        Assert.Equal(name, HpaMetric.Read("k8s/overlays/gpu/hpa-vision.yaml").Name);
        Assert.Contains($"seriesQuery: '{name}{{namespace!=\"\",pod!=\"\"}}'", rules);
        Assert.Contains($"name: {{ matches: \"^{name}$\", as: \"{name}\" }}", rules);
        Assert.Contains("pod: { resource: pod }", rules);
        Assert.Contains("<<.LabelMatchers>>", rules);            // the HPA's otel_scope_queue selector reaches the query
    }

    [Fact]
    public void HpaMetric_SamplePattern_MatchesTheSeriesWithItsLabelsInAnyOrderOnly()
    {
        var hpa = new HpaMetric("multimodal_inference_queue_depth", new Dictionary<string, string> { ["otel_scope_queue"] = "diffusion" });
        var pattern = new System.Text.RegularExpressions.Regex(hpa.SamplePattern(), System.Text.RegularExpressions.RegexOptions.Multiline);

        Assert.Matches(pattern, "multimodal_inference_queue_depth{otel_scope_name=\"MultiModal.Inference\",otel_scope_queue=\"diffusion\"} 0 1733400000000");
        Assert.Matches(pattern, "# TYPE x gauge\nmultimodal_inference_queue_depth{otel_scope_queue=\"diffusion\",job=\"d\"} 3");
        Assert.DoesNotMatch(pattern, "multimodal_inference_queue_depth{otel_scope_queue=\"clip\"} 0");
        Assert.DoesNotMatch(pattern, "multimodal_inference_queue_length{otel_scope_queue=\"diffusion\"} 0");
    }
}
