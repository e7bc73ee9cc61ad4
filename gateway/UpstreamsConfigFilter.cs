using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace MultiModal.Gateway;

/// <summary>
/// Sets each cluster's destinations: the URLs in <c>Gateway:Upstreams:&lt;cluster&gt;</c> when given (one value per
/// service instead of one <c>ReverseProxy:Clusters:x:Destinations:y:Address</c> key per backend), else those of
/// the <c>ReverseProxy</c> section; then expands DNS names to one destination per address
/// (<see cref="DnsDestinationExpander"/>). Routes, h2c, health checks and load balancing stay in <c>ReverseProxy</c>.
/// </summary>
internal sealed class UpstreamsConfigFilter(IOptions<GatewayOptions> options, ILogger<UpstreamsConfigFilter> logger)
    : IProxyConfigFilter
{
    public async ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        IEnumerable<KeyValuePair<string, DestinationConfig>> configured =
            options.Value.Upstreams.TryGetValue(cluster.ClusterId, out var upstreams) && !string.IsNullOrWhiteSpace(upstreams)
                ? GatewayOptions.ParseUpstreams(cluster.ClusterId, upstreams).Select((address, i) =>
                    new KeyValuePair<string, DestinationConfig>(
                        $"{cluster.ClusterId}-{i}", new DestinationConfig { Address = address.ToString() }))
                : cluster.Destinations ?? new Dictionary<string, DestinationConfig>();

        var expanded = await Task.WhenAll(configured.Select(d => DnsDestinationExpander.ExpandAsync(d.Key, d.Value, logger, cancel)));
        var destinations = expanded.SelectMany(d => d).ToDictionary(StringComparer.OrdinalIgnoreCase);

        GatewayLog.ClusterDestinations(logger, cluster.ClusterId, string.Join(", ", destinations.Values.Select(d => d.Address)));
        return cluster with { Destinations = destinations };
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
        => ValueTask.FromResult(route);
}
