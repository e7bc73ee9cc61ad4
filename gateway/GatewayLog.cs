namespace MultiModal.Gateway;

/// <summary>The gateway's own log messages (the proxy's are YARP's).</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(EventId = 1, EventName = "Listening", Level = LogLevel.Information,
        Message = "Gateway listening on {Address}")]
    public static partial void Listening(ILogger logger, string address);

    [LoggerMessage(EventId = 2, EventName = "UpstreamsReplaced", Level = LogLevel.Information,
        Message = "Cluster {ClusterId} uses the destinations from Gateway:Upstreams: {Addresses}")]
    public static partial void UpstreamsReplaced(ILogger logger, string clusterId, string addresses);
}
