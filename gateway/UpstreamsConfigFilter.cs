using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace MultiModal.Gateway;

/// <summary>
/// Replaces a cluster's destinations with the URLs listed in <c>Gateway:Upstreams:&lt;cluster&gt;</c>, so a deployment
/// sets one value per service instead of one <c>ReverseProxy:Clusters:x:Destinations:y:Address</c> key per backend.
/// Everything else (routes, h2c, health checks, load balancing) stays in the <c>ReverseProxy</c> section.
/// </summary>
internal sealed class UpstreamsConfigFilter(IOptions<GatewayOptions> options, ILogger<UpstreamsConfigFilter> logger)
    : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        if (!options.Value.Upstreams.TryGetValue(cluster.ClusterId, out var value) || string.IsNullOrWhiteSpace(value))
            return ValueTask.FromResult(cluster);

        var addresses = GatewayOptions.ParseUpstreams(cluster.ClusterId, value);
        // Ids are stable per position so YARP keeps health state across config reloads.
        var destinations = addresses
            .Select((address, i) => (Id: $"{cluster.ClusterId}-{i}", Config: new DestinationConfig { Address = address.ToString() }))
            .ToDictionary(d => d.Id, d => d.Config, StringComparer.OrdinalIgnoreCase);

        GatewayLog.UpstreamsReplaced(logger, cluster.ClusterId, string.Join(", ", addresses));
        return ValueTask.FromResult(cluster with { Destinations = destinations });
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
        => ValueTask.FromResult(route);
}
