namespace MultiModal.Gateway.Retry;

/// <summary>Log messages of unary retries and of the health policies that take replicas out of rotation and back.</summary>
internal static partial class RetryLog
{
    [LoggerMessage(EventId = 100, EventName = "Retrying", Level = LogLevel.Warning,
        Message = "Call {Path} failed at destination {DestinationId} of cluster {ClusterId} before any response ({Reason}); retrying once on another destination")]
    public static partial void Retrying(ILogger logger, string path, string destinationId, string clusterId, string reason);

    [LoggerMessage(EventId = 101, EventName = "MarkedDown", Level = LogLevel.Warning,
        Message = "Destination {DestinationId} of cluster {ClusterId} marked down: {Reason}")]
    public static partial void MarkedDown(ILogger logger, string destinationId, string clusterId, string reason);

    [LoggerMessage(EventId = 102, EventName = "Restored", Level = LogLevel.Information,
        Message = "Destination {DestinationId} of cluster {ClusterId} restored: its health probe answered {StatusCode}")]
    public static partial void Restored(ILogger logger, string destinationId, string clusterId, int statusCode);

    [LoggerMessage(EventId = 103, EventName = "NotRetryableBodyTooLarge", Level = LogLevel.Debug,
        Message = "Call {Path}: request body over {Limit} bytes is streamed, not buffered, so the call will not be retried")]
    public static partial void NotRetryableBodyTooLarge(ILogger logger, string path, int limit);
}
