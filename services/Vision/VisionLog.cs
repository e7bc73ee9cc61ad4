namespace MultiModal.Vision;

internal static partial class VisionLog
{
    [LoggerMessage(EventId = 1, EventName = "ModelLoaded", Level = LogLevel.Information,
        Message = "Loaded LLaVA model {Model} from {Path} on {Device} ({DType}) in {ElapsedMs} ms")]
    public static partial void ModelLoaded(ILogger logger, string model, string path, string device, string dType, long elapsedMs);

    [LoggerMessage(EventId = 2, EventName = "GenerationFinished", Level = LogLevel.Debug,
        Message = "Generated {CompletionTokens} tokens after a {PromptTokens}-token prompt ({FinishReason}) in {ElapsedMs:F1} ms")]
    public static partial void GenerationFinished(ILogger logger, int promptTokens, int completionTokens, string finishReason, double elapsedMs);

    [LoggerMessage(EventId = 5, EventName = "KvCacheBound", Level = LogLevel.Information,
        Message = "KV cache: {BytesPerPosition} bytes per position; MaxBatchSize {MaxBatchSize}, MaxBatchTokens {MaxBatchTokens} (0 = none): at most {Positions} positions, {GiB:F2} GiB")]
    public static partial void KvCacheBound(ILogger logger, long bytesPerPosition, int maxBatchSize, long maxBatchTokens, long positions, double giB);

    [LoggerMessage(EventId = 3, EventName = "UpstreamConfigured", Level = LogLevel.Information,
        Message = "Vision forwards to the OpenAI-compatible endpoint {BaseUrl} (model {Model}, timeout {TimeoutSeconds} s)")]
    public static partial void UpstreamConfigured(ILogger logger, string baseUrl, string model, int timeoutSeconds);

    [LoggerMessage(EventId = 4, EventName = "UpstreamFailed", Level = LogLevel.Warning,
        Message = "Upstream chat/completions failed with HTTP {HttpStatus}; answered {GrpcStatus}")]
    public static partial void UpstreamFailed(ILogger logger, int httpStatus, string grpcStatus, Exception exception);
}
