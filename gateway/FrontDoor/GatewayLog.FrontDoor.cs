namespace MultiModal.Gateway;

// The front door's log lines (EventIds 10-16). Keys appear by name only, never the key or its hash.
internal static partial class GatewayLog
{
    [LoggerMessage(EventId = 10, EventName = "ApiKeysLoaded", Level = LogLevel.Information,
        Message = "API keys: {Count} loaded from {Source}")]
    public static partial void ApiKeysLoaded(ILogger logger, int count, string source);

    [LoggerMessage(EventId = 11, EventName = "ApiKeysReloadFailed", Level = LogLevel.Warning,
        Message = "API keys file {Path} could not be reloaded ({Reason}); the previous keys stay in force")]
    public static partial void ApiKeysReloadFailed(ILogger logger, string path, string reason);

    // Debug: a client without a key or over its rate would otherwise flood the log; the metric counts them.
    [LoggerMessage(EventId = 12, EventName = "CallUnauthenticated", Level = LogLevel.Debug,
        Message = "Call to {Path} refused: {Reason}")]
    public static partial void CallUnauthenticated(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 13, EventName = "CallRateLimited", Level = LogLevel.Debug,
        Message = "Call to {Path} by key {KeyName} refused: over its rate ({Weight} tokens; retry after {RetryAfter})")]
    public static partial void CallRateLimited(ILogger logger, string path, string keyName, int weight, TimeSpan retryAfter);

    [LoggerMessage(EventId = 14, EventName = "CallConcurrencyLimited", Level = LogLevel.Debug,
        Message = "Call to {Path} by key {KeyName} refused: {MaxConcurrent} calls already open")]
    public static partial void CallConcurrencyLimited(ILogger logger, string path, string keyName, int maxConcurrent);

    [LoggerMessage(EventId = 15, EventName = "RequestTooLarge", Level = LogLevel.Information,
        Message = "Call to {Path} by key {KeyName} refused: request body over {LimitBytes} bytes")]
    public static partial void RequestTooLarge(ILogger logger, string path, string keyName, long limitBytes);

    [LoggerMessage(EventId = 16, EventName = "FrontDoorConfigured", Level = LogLevel.Information,
        Message = "Front door: API keys {KeysState}, request bodies up to {MaxRequestBodyBytes} bytes")]
    public static partial void FrontDoorConfigured(ILogger logger, string keysState, long maxRequestBodyBytes);
}
