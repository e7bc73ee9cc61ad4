using Grpc.Core;
using Microsoft.Extensions.Options;
using MultiModal.Core.Errors;
using MultiModal.Core.Hosting;
using MultiModal.Core.Hosting.Drain;
using MultiModal.Core.Inference;

namespace MultiModal.Clip;

/// <summary>
/// Owns the model and the one worker thread that runs it. Loads the model when the host starts (before Kestrel
/// listens), then batches concurrent requests from all clients into shared forward passes.
/// </summary>
public sealed class ClipRunner(
    IOptions<ClipOptions> options, ModelReadiness readiness, DrainState drain, ILogger<ClipRunner> logger, ILoggerFactory loggers)
    : IHostedService, IDisposable
{
    private ClipEngine? _engine;
    private BatchingQueue<ClipWork, ClipWorkResult>? _queue;

    public ClipEngine Engine => _engine ?? throw InferenceException.ModelNotReady();
    public ClipOptions Options => options.Value;
    public string ModelName => options.Value.ModelName ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(options.Value.ModelPath));
    public Contracts.Common.V1.ServingStats Stats => _queue?.Stats.ToWire() ?? new();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var started = System.Diagnostics.Stopwatch.StartNew();
        _engine = new ClipEngine(o.ModelPath, o.Device, o.DType);
        _queue = new BatchingQueue<ClipWork, ClipWorkResult>(
            new BatchingOptions
            {
                Name = "clip", MaxBatchSize = o.MaxBatchSize, MaxQueueLength = o.MaxQueueLength,
                MaxWait = TimeSpan.FromMilliseconds(o.MaxBatchWaitMs),
            },
            _engine.RunBatch, work => work.Size, loggers.CreateLogger("MultiModal.Clip.Batches"));
        drain.AddQueue(_queue.RejectWaiting);   // SIGTERM: requests not started yet are answered UNAVAILABLE at once
        readiness.MarkReady();
        ClipLog.ModelLoaded(logger, ModelName, o.ModelPath, _engine.Device.ToString(), _engine.DType.ToString(), started.ElapsedMilliseconds);
        return Task.CompletedTask;
    }

    /// <summary>
    /// RESOURCE_EXHAUSTED (QUEUE_FULL) now when the queue is full, before the handler decodes images or tokenizes
    /// texts: under overload a shed call then costs no decoding and holds no pixels (RunAsync checks again).
    /// </summary>
    public void ShedIfFull() => (_queue ?? throw InferenceException.ModelNotReady()).ThrowIfFull();

    /// <summary>Queues the work with the call's deadline and cancellation; RESOURCE_EXHAUSTED when the queue is full.</summary>
    public Task<ClipWorkResult> RunAsync(ClipWork work, ServerCallContext context)
    {
        var queue = _queue ?? throw InferenceException.ModelNotReady();
        return queue.EnqueueAsync(work, context.Deadline, context.CancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        readiness.MarkNotReady();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _queue?.Dispose();
        _engine?.Dispose();
    }
}
