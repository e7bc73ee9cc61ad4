using Grpc.AspNetCore.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Yarp.ReverseProxy;

namespace MultiModal.Gateway.Health;

/// <summary>
/// grpc.health.v1 per routed service at the gateway: <c>multimodal.clip.v1.ClipService</c> is SERVING while the
/// YARP cluster it routes to has an available destination (not marked unhealthy by active or passive checks),
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

/// <summary>Healthy while cluster <c>clusterId</c> has a destination YARP would route to.</summary>
internal sealed class ClusterHealthCheck(IProxyStateLookup proxy, string clusterId) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!proxy.TryGetCluster(clusterId, out var cluster))
            return Task.FromResult(HealthCheckResult.Unhealthy($"Cluster {clusterId} is not configured."));
        var available = cluster.DestinationsState.AvailableDestinations.Count;
        return Task.FromResult(available > 0
            ? HealthCheckResult.Healthy($"{available} of {cluster.DestinationsState.AllDestinations.Count} destinations available.")
            : HealthCheckResult.Unhealthy($"Cluster {clusterId} has no healthy destination."));
    }
}
