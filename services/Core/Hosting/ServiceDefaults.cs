using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MultiModal.Core.Errors;
using MultiModal.Core.Hosting.Drain;
using MultiModal.Core.Logging;
using MultiModal.Telemetry;

namespace MultiModal.Core.Hosting;

/// <summary>What every gRPC host (clip, vision, diffusion) gets: h2c Kestrel, gRPC with error mapping, reflection, health, logging, OpenTelemetry.</summary>
public static class ServiceDefaults
{
    /// <summary>grpc.health.v1 service name Kubernetes' liveness probes ask (k8s/base; tests/Unit/K8s ties them).</summary>
    public const string LivenessService = "liveness";

    /// <summary>grpc.health.v1 service name the startup and readiness probes ask: SERVING once the model is loaded.</summary>
    public const string ReadinessService = "readiness";

    /// <summary>Health check tag of checks that say the process is alive (grpc.health.v1 service <c>liveness</c>).</summary>
    public const string LiveTag = "live";

    /// <summary>Health check tag of checks that say the process can take traffic (service <c>readiness</c>, <c>/healthz</c>).</summary>
    public const string ReadyTag = "ready";

    /// <summary>HTTP path of the readiness probe for YARP active health checks: 200 when ready, 503 otherwise.</summary>
    public const string HealthzPath = "/healthz";

    /// <summary>
    /// Default for <c>Grpc:MaxReceiveMessageBytes</c> and <c>Grpc:MaxSendMessageBytes</c>: 64 MiB. gRPC's 4 MiB
    /// default is too small for our payloads (several encoded images per EmbedImages/Describe request, generated
    /// PNGs and batched embeddings in responses), while a bound is still needed because each message is buffered
    /// whole in memory; a larger message is refused by the framework with RESOURCE_EXHAUSTED before it is parsed.
    /// </summary>
    public const int DefaultMaxMessageBytes = 64 * 1024 * 1024;

    /// <summary>
    /// Registers the defaults. Configuration read: <c>Kestrel:EndpointDefaults:Protocols</c> (default Http2, i.e. h2c
    /// on plain HTTP: what YARP and Kubernetes gRPC probes speak), <c>Grpc:MaxReceiveMessageBytes</c>,
    /// <c>Grpc:MaxSendMessageBytes</c>, <c>Logging:Format</c> (<c>json</c> for one JSON object per line),
    /// <c>&lt;configSection&gt;:DrainSeconds</c> (graceful drain on SIGTERM, see <see cref="GracefulDrain"/>).
    /// The host marks itself ready with <see cref="ModelReadiness.MarkReady"/> once its model is loaded.
    /// </summary>
    /// <param name="serviceName">Reported in logs and telemetry, e.g. "clip".</param>
    /// <param name="configSection">The service's options section, e.g. "Clip"; defaults to <paramref name="serviceName"/>.</param>
    public static WebApplicationBuilder AddGrpcServiceDefaults(this WebApplicationBuilder builder, string serviceName, string? configSection = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        var configuration = builder.Configuration;
        builder.Services.AddSingleton(new ServiceIdentity(serviceName));

        // Read when Kestrel starts, so configuration added after this call still wins; endpoint-specific
        // Protocols settings win over these defaults in any case.
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            if (context.Configuration["Kestrel:EndpointDefaults:Protocols"] is null)
            {
                kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2);
            }
            // gRPC bounds each message itself (Grpc:MaxReceiveMessageBytes, answered with RESOURCE_EXHAUSTED); Kestrel's
            // 30 MB body cap would otherwise cut a 30-64 MiB message mid-read and surface as an opaque UNKNOWN.
            kestrel.Limits.MaxRequestBodySize = null;
        });

        AddGracefulDrain(builder, configSection ?? serviceName);
        builder.Services.AddGrpc(grpc =>
        {
            // In this order: the drain interceptor runs inside the error mapping, which turns what it throws into statuses.
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
            grpc.Interceptors.Add<DrainInterceptor>();
            grpc.MaxReceiveMessageSize = configuration.GetValue("Grpc:MaxReceiveMessageBytes", DefaultMaxMessageBytes);
            grpc.MaxSendMessageSize = configuration.GetValue("Grpc:MaxSendMessageBytes", DefaultMaxMessageBytes);
            // Exception text must never reach clients outside Development (ErrorMapping hides it anyway).
            grpc.EnableDetailedErrors = builder.Environment.IsDevelopment();
        });
        builder.Services.AddGrpcReflection();

        builder.Services.TryAddSingleton<ModelReadiness>();
        builder.Services.TryAddSingleton<IModelReadiness>(sp => sp.GetRequiredService<ModelReadiness>());
        builder.Services
            .AddGrpcHealthChecks(health =>
            {
                health.Services.Map("", _ => true);
                health.Services.Map(LivenessService, check => check.Tags.Contains(LiveTag));
                health.Services.Map(ReadinessService, check => check.Tags.Contains(ReadyTag));
            })
            .AddCheck("process", () => HealthCheckResult.Healthy("Process is running."), tags: [LiveTag])
            .AddCheck<ReadinessHealthCheck>("model", tags: [ReadyTag]);

        builder.AddFleetTelemetry(serviceName);   // Telemetry:PrometheusPort / OTEL_EXPORTER_OTLP_ENDPOINT
        builder.AddFleetConsoleLogging();   // Logging:Format simple|json, shared with the gateway
        return builder;
    }

    /// <summary>
    /// Maps gRPC reflection, grpc.health.v1 (services <c>""</c> = every check, <c>liveness</c>, <c>readiness</c>) and
    /// <c>GET /healthz</c> (readiness over plain HTTP, for YARP active health checks), and logs the bound addresses
    /// once started. The host still maps its own gRPC service.
    /// </summary>
    public static WebApplication MapGrpcServiceDefaults(this WebApplication app)
    {
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();
        app.MapHealthChecks(HealthzPath, new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) });

        var service = app.Services.GetRequiredService<ServiceIdentity>().Name;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServiceDefaults).FullName!);
        app.Lifetime.ApplicationStarted.Register(() => CoreLog.ServiceStarted(logger, service, string.Join(", ", app.Urls)));
        return app;
    }

    // SIGTERM → readiness NOT_SERVING, new calls refused, running ones get DrainSeconds (GracefulDrain). The host's own
    // shutdown timeout is the drain time plus a margin, so it never cuts the drain short.
    private static void AddGracefulDrain(WebApplicationBuilder builder, string configSection)
    {
        builder.Services.AddOptions<DrainOptions>().BindConfiguration(configSection).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<HostOptions>().Configure<Microsoft.Extensions.Options.IOptions<DrainOptions>>(
            (host, drain) => host.ShutdownTimeout = drain.Value.DrainTime + DrainOptions.HostMargin);
        builder.Services.TryAddSingleton<DrainState>();
        builder.Services.AddHostedService<GracefulDrain>();
    }

}
