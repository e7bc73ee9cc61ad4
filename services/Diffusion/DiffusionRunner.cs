using Grpc.Core;
using Microsoft.Extensions.Options;
using MultiModal.Core.Errors;
using MultiModal.Core.Hosting;
using MultiModal.Core.Inference.Jobs;
using MultiModal.Core.Hosting.Drain;
using MultiModal.Models.Pipelines;
using MultiModal.Models.Runtime;

namespace MultiModal.Diffusion;

/// <summary>
/// Owns the pipeline and the one worker thread that runs it. Loads the pipeline when the host starts (before Kestrel
/// listens), then runs queued generations one at a time, in arrival order.
/// </summary>
public sealed class DiffusionRunner(
    IOptions<DiffusionOptions> options, ModelReadiness readiness, DrainState drain, ILogger<DiffusionRunner> logger)
    : IHostedService, IDisposable
{
    /// <summary>The job queue's name: the <c>queue</c> tag of its metrics (Prometheus <c>otel_scope_queue</c>), which the prod HPA selects.</summary>
    public const string QueueName = "diffusion";

    private StableDiffusionPipeline? _pipeline;
    private JobQueue<DiffusionJob, PreviewFrame, GenerationOutput>? _queue;
    private DiffusionMetrics? _metrics;

    public StableDiffusionPipeline Pipeline => _pipeline ?? throw InferenceException.ModelNotReady();
    public DiffusionOptions Options => options.Value;
    public string ModelName => options.Value.ModelName ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(options.Value.ModelPath));
    public string Device { get; private set; } = "";
    public string DType { get; private set; } = "";
    public TimeSpan Heartbeat => TimeSpan.FromSeconds(options.Value.HeartbeatSeconds);
    public JobQueueStats Stats => _queue?.Stats ?? default;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var started = System.Diagnostics.Stopwatch.StartNew();
        var device = TorchRuntime.ResolveDevice(o.Device);
        var dtype = TorchRuntime.ResolveDType(o.DType, device);
        _pipeline = StableDiffusionPipeline.Load(o.ModelPath, device, dtype, string.IsNullOrWhiteSpace(o.Variant) ? null : o.Variant);
        (Device, DType) = (device.ToString(), TorchRuntime.Name(dtype));
        _metrics = new DiffusionMetrics(ModelName);
        _queue = new JobQueue<DiffusionJob, PreviewFrame, GenerationOutput>(
            new JobQueueOptions { Name = QueueName, MaxQueueLength = o.MaxQueueLength, MaxPendingPreviews = o.MaxPendingPreviews },
            Run, logger);
        drain.AddQueue(_queue.RejectWaiting);   // SIGTERM: jobs not started yet are answered UNAVAILABLE at once
        readiness.MarkReady();
        DiffusionLog.ModelLoaded(logger, ModelName, o.ModelPath, Device, DType, started.ElapsedMilliseconds,
            _pipeline.NativeWidth, _pipeline.NativeHeight, _pipeline.DefaultScheduler.ToString(), _pipeline.PredictionType);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Queues the job with the call's deadline and cancellation; RESOURCE_EXHAUSTED when the queue is full. The caller
    /// reads the job's events and disposes it when done (which cancels it if it has not finished).
    /// </summary>
    public Job<DiffusionJob, PreviewFrame, GenerationOutput> Enqueue(DiffusionJob job, ServerCallContext context)
    {
        var queue = _queue ?? throw InferenceException.ModelNotReady();
        return queue.Enqueue(job, context.Deadline, context.CancellationToken);
    }

    // On the queue's worker thread: the only place the pipeline runs.
    private GenerationOutput Run(DiffusionJob job, RunningJob<PreviewFrame> running) =>
        Pipeline.Generate(job.Request, step =>
        {
            running.Report(step.Step, step.TotalSteps, step.Preview);
            _metrics!.StepRun();
        }, running.CancellationToken);

    public Task StopAsync(CancellationToken cancellationToken)
    {
        readiness.MarkNotReady();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        // The queue first: it cancels the running job and waits for the worker, which may still be inside the pipeline.
        _queue?.Dispose();
        _pipeline?.Dispose();
        _metrics?.Dispose();
    }
}
