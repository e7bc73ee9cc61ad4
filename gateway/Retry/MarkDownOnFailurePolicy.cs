using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace MultiModal.Gateway.Retry;

/// <summary>
/// Passive health policy <c>MarkDownOnFailure</c>: the first transport failure at a destination (connection refused
/// or reset, a stream broken by the replica, a trailers-only UNAVAILABLE) takes it out of rotation at once, instead of
/// after a failure rate over a window (YARP's <c>TransportFailureRate</c> needs 10 requests in 60 s). The active probe
/// (<see cref="ProbeRestoresPolicy"/>) brings it back when it answers; the cluster's
/// <c>HealthCheck:Passive:ReactivationPeriod</c> is only the fallback for a cluster without active probes.
/// </summary>
/// <remarks>
/// As in <c>TransportFailureRate</c>, failures the client caused (it cancelled, its deadline passed, it broke its own
/// stream) say nothing about the replica and are ignored.
/// </remarks>
internal sealed class MarkDownOnFailurePolicy(IDestinationHealthUpdater healthUpdater, ILogger<MarkDownOnFailurePolicy> logger)
    : IPassiveHealthCheckPolicy
{
    public const string PolicyName = "MarkDownOnFailure";
    private static readonly TimeSpan DefaultReactivationPeriod = TimeSpan.FromSeconds(30);

    public string Name => PolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        if (context.RequestAborted.IsCancellationRequested
            || context.Features.Get<IForwarderErrorFeature>() is not { } error
            || !IsReplicaFailure(error.Error))
            return;

        if (destination.Health.Passive != DestinationHealth.Unhealthy)
            RetryLog.MarkedDown(logger, destination.DestinationId, cluster.ClusterId,
                $"{error.Error}: {error.Exception?.GetBaseException().Message}");
        healthUpdater.SetPassive(cluster, destination, DestinationHealth.Unhealthy,
            cluster.Model.Config.HealthCheck?.Passive?.ReactivationPeriod ?? DefaultReactivationPeriod);
    }

    private static bool IsReplicaFailure(ForwarderError error) => error is ForwarderError.Request
        or ForwarderError.RequestTimedOut
        or ForwarderError.RequestBodyDestination
        or ForwarderError.ResponseBodyDestination
        or ForwarderError.UpgradeRequestDestination
        or ForwarderError.UpgradeResponseDestination;
}
