using Grpc.AspNetCore.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace MultiModal.Gateway.Health;

/// <summary>
/// grpc.health.v1 per routed service at the gateway: <c>multimodal.clip.v1.ClipService</c> is SERVING while the
/// YARP cluster it routes to has a destination not marked unhealthy by its active or passive checks,
/// NOT_SERVING otherwise. The service names come from the routes (<c>/&lt;service&gt;/{**rest}</c>). These checks are
/// tagged <see cref="Tag"/> and kept out of <c>""</c>, <c>liveness</c>, <c>readiness</c> and <c>/healthz</c>,
/// which report the gateway process only (a backend outage must not restart the gateway).
/// </summary>
public static class ClusterHealth
{
    public const string Tag = "cluster";

    /// <summary>For the process-only entries: every check that is not a cluster's.</summary>
    public static bool IsProcessCheck(HealthCheckMapContext context) => !context.Tags.Contains(Tag);

    public static WebApplicationBuilder AddClusterHealthChecks(this WebApplicationBuilder builder)
    {
        var checks = builder.Services.AddHealthChecks();
        var services = new List<(string Service, string Check)>();
        foreach (var route in builder.Configuration.GetSection("ReverseProxy:Routes").GetChildren())
        {
            var clusterId = route["ClusterId"];
            var path = route["Match:Path"];
            if (clusterId is null || path is null || !path.StartsWith('/'))
                continue;
            var service = path[1..].Split('/')[0];
            if (service.Length == 0 || service.Contains('{'))
                continue;
            var checkName = $"cluster:{clusterId}:{service}";
            checks.Add(new HealthCheckRegistration(checkName,
                sp => new ClusterHealthCheck(sp.GetRequiredService<IProxyStateLookup>(), clusterId),
                HealthStatus.Unhealthy, [Tag]));
            services.Add((service, checkName));
        }

        builder.Services.Configure<GrpcHealthChecksOptions>(grpc =>
        {
            grpc.Services.Remove("");
            grpc.Services.Map("", IsProcessCheck);
            foreach (var (service, check) in services)
                grpc.Services.Map(service, context => context.Name == check);
        });
        return builder;
    }
}

/// <summary>Healthy while cluster <c>clusterId</c> has a destination that is not unhealthy.</summary>
internal sealed class ClusterHealthCheck(IProxyStateLookup proxy, string clusterId) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!proxy.TryGetCluster(clusterId, out var cluster))
            return Task.FromResult(HealthCheckResult.Unhealthy($"Cluster {clusterId} is not configured."));
        // From each destination's own health, not AvailableDestinations: YARP falls back to every destination when
        // none is healthy ("panic" routing), which would report SERVING with every replica down.
        var all = cluster.DestinationsState.AllDestinations;
        var healthy = all.Count(d => d.Health.Active != DestinationHealth.Unhealthy && d.Health.Passive != DestinationHealth.Unhealthy);
        return Task.FromResult(healthy > 0
            ? HealthCheckResult.Healthy($"{healthy} of {all.Count} destinations healthy.")
            : HealthCheckResult.Unhealthy($"Cluster {clusterId} has no healthy destination."));
    }
}
