using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.ServiceDiscovery;
using MultiModal.Gateway.Retry;
using MultiModal.Telemetry;
using MultiModal.Gateway.FrontDoor;
using MultiModal.Gateway.Health;
using MultiModal.Gateway.Listener;
using MultiModal.Gateway.OpenAi;
using MultiModal.Gateway.Playground;
using MultiModal.Gateway.Reflection;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace MultiModal.Gateway;

/// <summary>Wires the gateway: Kestrel for h2c gRPC, YARP from configuration, and the gateway's own health endpoints.</summary>
public static class GatewayServiceCollectionExtensions
{
    /// <summary>Local default when neither <c>--urls</c>/<c>ASPNETCORE_URLS</c> nor <c>PORT</c> is given.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>Path of the gateway's own liveness endpoint (the backends answer the same path for YARP's probes).</summary>
    public const string HealthPath = "/healthz";

    /// <summary>Configures Kestrel, the reverse proxy and health checks from <c>ReverseProxy</c> and <c>Gateway</c>.</summary>
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        UseListenAddress(builder);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // gRPC clients speak HTTP/2 with prior knowledge, REST clients mostly HTTP/1.1: one cleartext port serves
            // both, chosen per connection from its first bytes (Listener/CleartextProtocolSniffer.cs).
            kestrel.ConfigureEndpointDefaults(CleartextProtocolSniffer.UseHttp1AndH2c);
            // A client stream may sit idle for minutes (queued generation); the proxy streams bodies without buffering,
            // and the backends enforce message size limits themselves.
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MaxRequestBodySize = null;
        });

        builder.AddFleetConsoleLogging();          // Logging:Format simple|json, as the services
        builder.AddFleetTelemetry("gateway");      // Telemetry:PrometheusPort / OTEL_EXPORTER_OTLP_ENDPOINT
        builder.Services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddConfigFilter<UpstreamsConfigFilter>();
        builder.Services.Replace(ServiceDescriptor.Singleton<IForwarderHttpClientFactory, GatewayHttpClientFactory>());
        builder.Services.Replace(ServiceDescriptor.Singleton<IDestinationResolver, DnsRefreshTrigger>());
        builder.Services.AddGatewayRetries();    // Gateway:Retry; MarkDownOnFailure / ProbeRestores health policies

        // The gateway's health is its own process only: a backend outage is YARP's business (it routes around it).
        // grpc.health.v1 reports UNKNOWN for a service mapped to no check, hence the explicit "self".
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy());
        // kubelet's httpGet probes speak HTTP/1.1 only, so Kubernetes probes this h2c-only port with grpc.health.v1.
        // The same names the backends use, so every Deployment probes alike; both report the process itself.
        builder.Services.AddGrpc();
        builder.Services.AddGrpcHealthChecks(grpc =>
        {
            grpc.Services.Map("liveness", ClusterHealth.IsProcessCheck);
            grpc.Services.Map("readiness", ClusterHealth.IsProcessCheck);
        });
        builder.AddClusterHealthChecks();          // grpc.health.v1 per routed service: SERVING while a replica is healthy
        builder.Services.AddGatewayReflection();   // grpc.reflection.v1 + v1alpha for the whole fleet
        builder.AddFrontDoor();                    // API keys, per-key limits, request size (Gateway:ApiKeys*, RateLimits, ...)
        builder.AddOpenAiRest();                   // /v1/... OpenAI-compatible REST → the services' gRPC (OpenAi/)
        return builder;
    }

    /// <summary>Maps the playground (<c>/</c>), <c>GET /healthz</c>, grpc.health.v1.Health, the REST facade and the proxy
    /// routes; logs the bound addresses.</summary>
    public static WebApplication MapGateway(this WebApplication app)
    {
        app.UsePlayground();                       // GET / and its files, keyless (the page sends the key it is given)
        app.UseFrontDoor();                        // before the proxy: keys, limits, body size; health/reflection stay open
        app.MapHealthChecks(HealthPath, new HealthCheckOptions { Predicate = r => !r.Tags.Contains(ClusterHealth.Tag) });
        app.MapGrpcHealthChecksService();
        app.MapGatewayReflection();
        app.MapOpenAiRest();                       // behind the front door like the proxy: same keys, same limits
        // YARP's default pipeline (session affinity, load balancing, passive health checks) behind unary retries,
        // which re-run it on another destination. No request timeouts: a generation may stream for many minutes;
        // deadlines are the client's (grpc-timeout is forwarded).
        app.MapReverseProxy(pipeline =>
        {
            pipeline.UseUnaryRetries();
            pipeline.UseSessionAffinity();
            pipeline.UseLoadBalancing();
            pipeline.UsePassiveHealthChecks();
        });

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("MultiModal.Gateway");
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            foreach (var address in app.Urls)
                GatewayLog.Listening(logger, address);
        });
        return app;
    }

    // --urls / ASPNETCORE_URLS win; else PORT (container convention: all interfaces); else loopback:8080.
    private static void UseListenAddress(WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        if (!string.IsNullOrEmpty(configuration["urls"]))
            return;

        if (configuration["PORT"] is { Length: > 0 } port)
            builder.WebHost.UseUrls($"http://0.0.0.0:{port}");
        else if (string.IsNullOrEmpty(configuration["http_ports"]) && string.IsNullOrEmpty(configuration["https_ports"]))
            builder.WebHost.UseUrls(DefaultUrl);
    }
}
