using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace MultiModal.Gateway.OpenAi.Upstreams;

/// <summary>
/// gRPC calls from the REST endpoints to the services, over the same destinations the proxy uses: each call picks one
/// of the cluster's available destinations (YARP's health state: active probes, passive mark-downs, HealthyOrPanic),
/// with one <see cref="GrpcChannel"/> per destination address, kept for the process. A unary call that fails with
/// UNAVAILABLE (connection refused or reset, or the replica loading/draining) marks that destination down (as the proxy's passive policy would) and runs once more
/// on another available destination; streams are not retried.
/// </summary>
public sealed class FleetChannels(
    IProxyStateLookup proxyState, IDestinationHealthUpdater health, IOptions<GatewayOptions> options, ILogger<FleetChannels> logger)
    : IDisposable
{
    /// <summary>Responses up to 64 MiB (generated images): gRPC's default of 4 MiB is too small for a batch of PNGs.</summary>
    public const int MaxReceiveMessageBytes = 64 * 1024 * 1024;

    private static readonly TimeSpan ReactivationPeriod = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    /// <summary>Runs a unary call on a destination of <paramref name="clusterId"/>, retrying once elsewhere on UNAVAILABLE.</summary>
    public async Task<T> UnaryAsync<T>(string clusterId, Func<CallInvoker, Task<T>> call)
    {
        var (cluster, first) = Pick(clusterId, exclude: null);
        try
        {
            return await call(Channel(first).CreateCallInvoker());
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
        {
            health.SetPassive(cluster, first, DestinationHealth.Unhealthy, ReactivationPeriod);
            OpenAiLog.DestinationFailed(logger, clusterId, first.DestinationId, e.Status.Detail);
            var (_, second) = Pick(clusterId, exclude: first);
            if (ReferenceEquals(second, first))
                throw;
            return await call(Channel(second).CreateCallInvoker());
        }
    }

    /// <summary>A call invoker on one available destination of <paramref name="clusterId"/>, for a streaming call.</summary>
    public CallInvoker ForStream(string clusterId) => Channel(Pick(clusterId, exclude: null).Destination).CreateCallInvoker();

    private (ClusterState Cluster, DestinationState Destination) Pick(string clusterId, DestinationState? exclude)
    {
        if (!proxyState.TryGetCluster(clusterId, out var cluster))
            throw NoDestination(clusterId);
        var available = cluster.DestinationsState.AvailableDestinations;
        if (available.Count == 0)
            throw NoDestination(clusterId);
        var candidates = exclude is null ? available : available.Where(d => !ReferenceEquals(d, exclude)).ToArray();
        if (candidates.Count == 0)
            return (cluster, exclude!);
        // Two random choices, the one with fewer requests in flight (the proxy's PowerOfTwoChoices).
        var a = candidates[Random.Shared.Next(candidates.Count)];
        var b = candidates[Random.Shared.Next(candidates.Count)];
        return (cluster, a.ConcurrentRequestCount <= b.ConcurrentRequestCount ? a : b);
    }

    private GrpcChannel Channel(DestinationState destination) =>
        _channels.GetOrAdd(destination.Model.Config.Address, address => GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
                KeepAlivePingDelay = options.Value.BackendKeepAlivePingDelay,
                KeepAlivePingTimeout = options.Value.BackendKeepAlivePingTimeout,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            },
            MaxReceiveMessageSize = MaxReceiveMessageBytes,
            MaxSendMessageSize = MaxReceiveMessageBytes,
        }));

    private static RpcException NoDestination(string clusterId) =>
        new(new Status(StatusCode.Unavailable, $"No {clusterId} service is available behind the gateway."));

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
            channel.Dispose();
    }
}
