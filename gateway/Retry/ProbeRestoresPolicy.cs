using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace MultiModal.Gateway.Retry;

/// <summary>
/// Active health policy <c>ProbeRestores</c> for the backends' <c>GET /healthz</c> (200 when the model is loaded and
/// the service takes work, 503 while loading or draining). A successful probe makes a destination healthy for both
/// the active and the passive check, so a replica that <see cref="MarkDownOnFailurePolicy"/> took out is back in
/// rotation at the first probe after it is ready, not after a reactivation timer.
/// <see cref="RetryOptions.ProbeFailureThreshold"/> failed probes in a row take a destination out.
/// </summary>
internal sealed class ProbeRestoresPolicy(
    IDestinationHealthUpdater healthUpdater, IOptionsMonitor<RetryOptions> options, ILogger<ProbeRestoresPolicy> logger)
    : IActiveHealthCheckPolicy
{
    public const string PolicyName = "ProbeRestores";
    private readonly ConditionalWeakTable<DestinationState, StrongBox<int>> _failuresInARow = [];

    public string Name => PolicyName;

    public void ProbingCompleted(ClusterState cluster, IReadOnlyList<DestinationProbingResult> probingResults)
    {
        if (probingResults.Count == 0)
            return;

        var threshold = options.CurrentValue.ProbeFailureThreshold;
        var newStates = new NewActiveDestinationHealth[probingResults.Count];
        for (var i = 0; i < probingResults.Count; i++)
        {
            var (destination, response) = (probingResults[i].Destination, probingResults[i].Response);
            var failures = _failuresInARow.GetOrCreateValue(destination);
            var health = destination.Health;
            if (response is { IsSuccessStatusCode: true })
            {
                failures.Value = 0;
                if (health.Active == DestinationHealth.Unhealthy || health.Passive == DestinationHealth.Unhealthy)
                    RetryLog.Restored(logger, destination.DestinationId, cluster.ClusterId, (int)response.StatusCode);
                if (health.Passive == DestinationHealth.Unhealthy)
                    healthUpdater.SetPassive(cluster, destination, DestinationHealth.Healthy, TimeSpan.Zero);
                newStates[i] = new(destination, DestinationHealth.Healthy);
            }
            else
            {
                var down = Interlocked.Increment(ref failures.Value) >= threshold;
                if (down && health.Active != DestinationHealth.Unhealthy)
                    RetryLog.MarkedDown(logger, destination.DestinationId, cluster.ClusterId, response is null
                        ? $"health probe failed: {probingResults[i].Exception?.GetBaseException().Message}"
                        : $"health probe answered {(int)response.StatusCode}");
                newStates[i] = new(destination, down ? DestinationHealth.Unhealthy : health.Active);
            }
        }
        healthUpdater.SetActive(cluster, newStates);
    }
}
