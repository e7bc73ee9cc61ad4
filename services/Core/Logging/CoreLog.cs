using Microsoft.Extensions.Logging;

namespace MultiModal.Core.Logging;

/// <summary>Source-generated log messages of the Core library (EventIds 1000–1099).</summary>
internal static partial class CoreLog
{
    [LoggerMessage(EventId = 1000, EventName = "BatchRun", Level = LogLevel.Debug,
        Message = "Queue {Queue} ran a batch of {Requests} requests ({Items} items) in {ElapsedMs:F1} ms; {Waiting} waiting.")]
    public static partial void BatchRun(ILogger logger, string queue, int requests, int items, double elapsedMs, int waiting);

    [LoggerMessage(EventId = 1001, EventName = "QueueFull", Level = LogLevel.Warning,
        Message = "Queue {Queue} is full ({Capacity} requests waiting); request shed with QUEUE_FULL.")]
    public static partial void QueueFull(ILogger logger, string queue, int capacity);

    [LoggerMessage(EventId = 1002, EventName = "UnexpectedException", Level = LogLevel.Error,
        Message = "Unexpected exception in {Method}; answered INTERNAL with trace id {TraceId}.")]
    public static partial void UnexpectedException(ILogger logger, string method, string traceId, Exception exception);

    [LoggerMessage(EventId = 1003, EventName = "RequestSkipped", Level = LogLevel.Debug,
        Message = "Queue {Queue} skipped a request: {Reason} before its batch started.")]
    public static partial void RequestSkipped(ILogger logger, string queue, string reason);

    [LoggerMessage(EventId = 1004, EventName = "BatchFailed", Level = LogLevel.Warning,
        Message = "Queue {Queue}: a batch of {Requests} requests ({Items} items) failed; every request in it fails.")]
    public static partial void BatchFailed(ILogger logger, string queue, int requests, int items, Exception exception);

    [LoggerMessage(EventId = 1005, EventName = "ServiceStarted", Level = LogLevel.Information,
        Message = "{Service} serving gRPC (h2c by default) on {Addresses}.")]
    public static partial void ServiceStarted(ILogger logger, string service, string addresses);

    [LoggerMessage(EventId = 1006, EventName = "SequencesStepped", Level = LogLevel.Debug,
        Message = "Queue {Queue} stepped {Sequences} sequences in {ElapsedMs:F1} ms; {Finished} finished, {Waiting} waiting.")]
    public static partial void SequencesStepped(ILogger logger, string queue, int sequences, double elapsedMs, int finished, int waiting);

    [LoggerMessage(EventId = 1007, EventName = "StepFailed", Level = LogLevel.Warning,
        Message = "Queue {Queue}: a step of {Sequences} sequences failed; every running request fails.")]
    public static partial void StepFailed(ILogger logger, string queue, int sequences, Exception exception);

    [LoggerMessage(EventId = 1008, EventName = "SequenceFailed", Level = LogLevel.Warning,
        Message = "Queue {Queue}: a sequence failed in {Stage}; only its request fails.")]
    public static partial void SequenceFailed(ILogger logger, string queue, string stage, Exception exception);

    [LoggerMessage(EventId = 1009, EventName = "SequenceDisposeFailed", Level = LogLevel.Warning,
        Message = "Queue {Queue}: disposing a finished sequence threw; the queue keeps serving.")]
    public static partial void SequenceDisposeFailed(ILogger logger, string queue, Exception exception);

    [LoggerMessage(EventId = 1010, EventName = "JobQueued", Level = LogLevel.Debug,
        Message = "Queue {Queue}: job {JobId} queued")]
    public static partial void JobQueued(ILogger logger, string queue, long jobId);

    [LoggerMessage(EventId = 1011, EventName = "JobStarted", Level = LogLevel.Debug,
        Message = "Queue {Queue}: job {JobId} started after waiting {WaitedMs:F0} ms")]
    public static partial void JobStarted(ILogger logger, string queue, long jobId, double waitedMs);

    [LoggerMessage(EventId = 1012, EventName = "JobCompleted", Level = LogLevel.Information,
        Message = "Queue {Queue}: job {JobId} made {Items} item(s) in {Steps} steps, {ElapsedMs:F0} ms; {PreviewsDropped} preview(s) dropped for a slow client")]
    public static partial void JobCompleted(ILogger logger, string queue, long jobId, int items, int steps, double elapsedMs, int previewsDropped);

    [LoggerMessage(EventId = 1013, EventName = "JobLeftQueue", Level = LogLevel.Information,
        Message = "Queue {Queue}: job {JobId} left the queue before it started: {Reason}")]
    public static partial void JobLeftQueue(ILogger logger, string queue, long jobId, string reason);

    [LoggerMessage(EventId = 1014, EventName = "JobCancelledWhileRunning", Level = LogLevel.Information,
        Message = "Queue {Queue}: job {JobId} stopped after {Steps} steps ({StepsAfterCancel} after the cancellation), {ElapsedMs:F0} ms: cancelled, deadline passed or shutting down")]
    public static partial void JobCancelledWhileRunning(ILogger logger, string queue, long jobId, int steps, int stepsAfterCancel, double elapsedMs);

    [LoggerMessage(EventId = 1015, EventName = "JobRejected", Level = LogLevel.Information,
        Message = "Queue {Queue}: job {JobId} rejected by the model: {Reason}")]
    public static partial void JobRejected(ILogger logger, string queue, long jobId, string reason);

    [LoggerMessage(EventId = 1016, EventName = "JobFailed", Level = LogLevel.Error,
        Message = "Queue {Queue}: job {JobId} failed")]
    public static partial void JobFailed(ILogger logger, string queue, long jobId, Exception exception);

    // Graceful drain (services/Core/Hosting/Drain): one line per step, each with its time, so the sequence can be read.

    [LoggerMessage(EventId = 1020, EventName = "SigtermReceived", Level = LogLevel.Information,
        Message = "{Service}: SIGTERM received (pid {Pid}); draining, running calls get up to {DrainSeconds} s.")]
    public static partial void SigtermReceived(ILogger logger, string service, int pid, double drainSeconds);

    [LoggerMessage(EventId = 1021, EventName = "DrainStarted", Level = LogLevel.Information,
        Message = "Drain started: readiness NOT_SERVING, new calls refused with UNAVAILABLE (DRAINING); {InFlight} calls in flight, {Rejected} of them waiting in a queue and answered UNAVAILABLE now; the others get up to {DrainSeconds} s.")]
    public static partial void DrainStarted(ILogger logger, int inFlight, int rejected, double drainSeconds);

    [LoggerMessage(EventId = 1022, EventName = "Drained", Level = LogLevel.Information,
        Message = "Drained in {ElapsedMs:F0} ms: all {InFlight} calls in flight at the start ended by themselves.")]
    public static partial void Drained(ILogger logger, double elapsedMs, int inFlight);

    [LoggerMessage(EventId = 1023, EventName = "DrainTimeRanOut", Level = LogLevel.Warning,
        Message = "Drain time ({DrainSeconds} s) ran out after {ElapsedMs:F0} ms: cancelling {Cancelled} calls still running with UNAVAILABLE (DRAINING).")]
    public static partial void DrainTimeRanOut(ILogger logger, double drainSeconds, double elapsedMs, int cancelled);

    [LoggerMessage(EventId = 1024, EventName = "CancelledCallsEnded", Level = LogLevel.Information,
        Message = "The {Cancelled} cancelled calls ended {ElapsedMs:F0} ms after the drain started.")]
    public static partial void CancelledCallsEnded(ILogger logger, int cancelled, double elapsedMs);

    [LoggerMessage(EventId = 1025, EventName = "CancelledCallsLinger", Level = LogLevel.Warning,
        Message = "{Remaining} cancelled calls had not ended {ElapsedMs:F0} ms after the drain started; Kestrel aborts their connections.")]
    public static partial void CancelledCallsLinger(ILogger logger, int remaining, double elapsedMs);

    [LoggerMessage(EventId = 1026, EventName = "HostStopped", Level = LogLevel.Information,
        Message = "{Service} stopped {ElapsedMs:F0} ms after the drain started; exiting once the models are disposed.")]
    public static partial void HostStopped(ILogger logger, string service, double elapsedMs);
}
