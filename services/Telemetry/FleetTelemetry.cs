using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace MultiModal.Telemetry;

/// <summary>
/// OpenTelemetry for every process of the fleet (the three services and the gateway). Collected: the fleet's own
/// meters (<c>MultiModal.*</c>: queue depth, batch sizes, shed requests, ...), ASP.NET Core and Kestrel server metrics
/// (request duration per gRPC method and status), outgoing HTTP client metrics (the gateway's proxied calls) and .NET
/// runtime metrics (GC, thread pool). Exported, as configured:
/// <list type="bullet">
/// <item><c>Telemetry:PrometheusPort</c> (default 0 = off): <c>GET /metrics</c> in the Prometheus text format on its own
/// HTTP/1.1 port, on every interface (<c>Telemetry:PrometheusHost</c>, default <c>*</c>). The gRPC port speaks h2c
/// only, which Prometheus cannot scrape.</item>
/// <item><c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (the standard variable; or <c>Telemetry:OtlpEndpoint</c>): metrics and
/// traces over OTLP, with a span per incoming request and per outgoing HTTP call (W3C trace context propagated, so a
/// call through the gateway is one trace).</item>
/// </list>
/// </summary>
public static class FleetTelemetry
{
    /// <summary>Meters the fleet's own code creates (wildcard).</summary>
    public const string Meters = "MultiModal.*";

    public static TBuilder AddFleetTelemetry<TBuilder>(this TBuilder builder, string serviceName) where TBuilder : IHostApplicationBuilder
    {
        var configuration = builder.Configuration;
        var prometheusPort = configuration.GetValue("Telemetry:PrometheusPort", 0);
        var prometheusHost = configuration["Telemetry:PrometheusHost"] ?? "*";
        var otlpEndpoint = configuration["Telemetry:OtlpEndpoint"] ?? configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        if (prometheusPort is < 0 or > 65535)
            throw new InvalidOperationException($"Telemetry:PrometheusPort must be 0 (off) or a TCP port; got {prometheusPort}.");

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Meters).AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddRuntimeInstrumentation();
                if (prometheusPort > 0)
                    metrics.AddPrometheusHttpListener(listener =>
                    {
                        listener.Port = prometheusPort;
                        // The exporter builds its prefix with UriBuilder, which refuses HttpListener's wildcard hosts
                        // ("*", "+" = every interface): give it a valid host, then swap the prefix for the real one.
                        listener.ConfigureHttpListener = (_, http) =>
                        {
                            http.Prefixes.Clear();
                            http.Prefixes.Add($"http://{prometheusHost}:{prometheusPort}/metrics/");
                        };
                    });
                if (otlpEndpoint is not null)
                    metrics.AddOtlpExporter(otlp => otlp.Endpoint = new Uri(otlpEndpoint));
            });
        if (otlpEndpoint is not null)
        {
            telemetry.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddOtlpExporter(otlp => otlp.Endpoint = new Uri(otlpEndpoint)));
        }
        return builder;
    }
}
