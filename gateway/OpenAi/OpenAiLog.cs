namespace MultiModal.Gateway.OpenAi;

/// <summary>Log messages of the OpenAI-compatible REST endpoints (EventIds 300-399).</summary>
internal static partial class OpenAiLog
{
    [LoggerMessage(EventId = 300, EventName = "RestRequestFailed", Level = LogLevel.Information,
        Message = "REST {Path} answered {Status} ({Code}): {Message}")]
    public static partial void RequestFailed(ILogger logger, string path, int status, string? code, string message);

    [LoggerMessage(EventId = 301, EventName = "ImageFetchRefused", Level = LogLevel.Warning,
        Message = "Image fetch from host {Host} refused: {Reason}")]
    public static partial void ImageFetchRefused(ILogger logger, string host, string reason);

    [LoggerMessage(EventId = 302, EventName = "RestDestinationFailed", Level = LogLevel.Warning,
        Message = "REST call to cluster {ClusterId} destination {DestinationId} failed ({Detail}); marked down, trying another")]
    public static partial void DestinationFailed(ILogger logger, string clusterId, string destinationId, string detail);

    [LoggerMessage(EventId = 303, EventName = "RestStreamFailed", Level = LogLevel.Information,
        Message = "REST stream {Path} ended with an error after it started ({Status}): {Message}")]
    public static partial void StreamFailed(ILogger logger, string path, int status, string message);
}
