namespace MultiModal.Gateway;

/// <summary>The gateway's own log messages (the proxy's are YARP's).</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(EventId = 1, EventName = "Listening", Level = LogLevel.Information,
        Message = "Gateway listening on {Address}")]
    public static partial void Listening(ILogger logger, string address);

    // Debug: with DNS refresh this is logged for every cluster every few seconds.
    [LoggerMessage(EventId = 2, EventName = "ClusterDestinations", Level = LogLevel.Debug,
        Message = "Cluster {ClusterId} destinations: {Addresses}")]
    public static partial void ClusterDestinations(ILogger logger, string clusterId, string addresses);

    [LoggerMessage(EventId = 3, EventName = "DestinationUnresolved", Level = LogLevel.Warning,
        Message = "Destination {DestinationId}: host {Host} does not resolve ({Reason}); it has no addresses until the next refresh")]
    public static partial void DestinationUnresolved(ILogger logger, string destinationId, string host, string reason);
}
