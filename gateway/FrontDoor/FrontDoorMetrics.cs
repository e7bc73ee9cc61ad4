using System.Diagnostics.Metrics;

namespace MultiModal.Gateway.FrontDoor;

/// <summary>
/// Meter <c>MultiModal.Gateway</c> (collected by the fleet's telemetry, <c>MultiModal.*</c>):
/// <c>multimodal.gateway.calls</c>, one per call the front door decided on, tagged <c>key</c> (the key's name, or
/// <c>anonymous</c> when keys are off or the call had no valid key) and <c>outcome</c> (<c>forwarded</c>,
/// <c>unauthenticated</c>, <c>rate_limited</c>, <c>concurrency_limited</c>, <c>too_large</c>).
/// </summary>
public sealed class FrontDoorMetrics
{
    public const string MeterName = "MultiModal.Gateway";
    public const string Anonymous = "anonymous";

    private readonly Counter<long> _calls;

    public FrontDoorMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _calls = meter.CreateCounter<long>("multimodal.gateway.calls", "{call}",
            "Calls the gateway's front door decided on, by key name and outcome.");
    }

    public void Call(string keyName, string outcome) =>
        _calls.Add(1, new KeyValuePair<string, object?>("key", keyName), new KeyValuePair<string, object?>("outcome", outcome));
}
