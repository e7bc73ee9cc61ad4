namespace MultiModal.Clip;

internal static partial class ClipLog
{
    [LoggerMessage(EventId = 1, EventName = "ModelLoaded", Level = LogLevel.Information,
        Message = "Loaded CLIP model {Model} from {Path} on {Device} ({DType}) in {ElapsedMs} ms")]
    public static partial void ModelLoaded(ILogger logger, string model, string path, string device, string dType, long elapsedMs);
}
