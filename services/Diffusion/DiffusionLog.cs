namespace MultiModal.Diffusion;

/// <summary>Source-generated log messages of the Diffusion service. Prompts are never logged.</summary>
internal static partial class DiffusionLog
{
    [LoggerMessage(EventId = 1, EventName = "ModelLoaded", Level = LogLevel.Information,
        Message = "Loaded Stable Diffusion pipeline {Model} from {Path} on {Device} ({DType}) in {ElapsedMs} ms; native size {Width}x{Height}, scheduler {Scheduler}, prediction {PredictionType}")]
    public static partial void ModelLoaded(ILogger logger, string model, string path, string device, string dType, long elapsedMs,
        int width, int height, string scheduler, string predictionType);

    [LoggerMessage(EventId = 2, EventName = "JobQueued", Level = LogLevel.Debug,
        Message = "Job {JobId} queued at position {Position}")]
    public static partial void JobQueued(ILogger logger, long jobId, int position);

    [LoggerMessage(EventId = 3, EventName = "JobStarted", Level = LogLevel.Debug,
        Message = "Job {JobId} started after waiting {WaitedMs:F0} ms")]
    public static partial void JobStarted(ILogger logger, long jobId, double waitedMs);

    [LoggerMessage(EventId = 4, EventName = "JobCompleted", Level = LogLevel.Information,
        Message = "Job {JobId} made {Images} image(s) in {Steps} steps, {ElapsedMs:F0} ms; {PreviewsDropped} preview(s) dropped for a slow client")]
    public static partial void JobCompleted(ILogger logger, long jobId, int images, int steps, double elapsedMs, int previewsDropped);

    [LoggerMessage(EventId = 5, EventName = "JobCancelledWhileWaiting", Level = LogLevel.Information,
        Message = "Job {JobId} left the queue: cancelled or deadline passed before it started")]
    public static partial void JobCancelledWhileWaiting(ILogger logger, long jobId);

    [LoggerMessage(EventId = 6, EventName = "JobCancelledWhileRunning", Level = LogLevel.Information,
        Message = "Job {JobId} stopped after {Steps} steps ({StepsAfterCancel} after the cancellation), {ElapsedMs:F0} ms: cancelled, deadline passed or shutting down")]
    public static partial void JobCancelledWhileRunning(ILogger logger, long jobId, int steps, int stepsAfterCancel, double elapsedMs);

    [LoggerMessage(EventId = 7, EventName = "JobRejected", Level = LogLevel.Information,
        Message = "Job {JobId} rejected by the model: {Reason}")]
    public static partial void JobRejected(ILogger logger, long jobId, string reason);

    [LoggerMessage(EventId = 8, EventName = "JobFailed", Level = LogLevel.Error,
        Message = "Job {JobId} failed")]
    public static partial void JobFailed(ILogger logger, long jobId, Exception exception);

    [LoggerMessage(EventId = 9, EventName = "QueueFull", Level = LogLevel.Warning,
        Message = "Queue {Queue} is full ({Capacity} jobs waiting); request shed with QUEUE_FULL")]
    public static partial void QueueFull(ILogger logger, string queue, int capacity);
}
