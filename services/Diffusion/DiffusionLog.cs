namespace MultiModal.Diffusion;

/// <summary>Source-generated log messages of the Diffusion service. Prompts are never logged.</summary>
internal static partial class DiffusionLog
{
    [LoggerMessage(EventId = 1, EventName = "ModelLoaded", Level = LogLevel.Information,
        Message = "Loaded Stable Diffusion pipeline {Model} from {Path} on {Device} ({DType}) in {ElapsedMs} ms; native size {Width}x{Height}, scheduler {Scheduler}, prediction {PredictionType}")]
    public static partial void ModelLoaded(ILogger logger, string model, string path, string device, string dType, long elapsedMs,
        int width, int height, string scheduler, string predictionType);
}
