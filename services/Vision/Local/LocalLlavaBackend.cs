using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using MultiModal.Core.Inference;
using MultiModal.Models.Llava.Generation;
using MultiModal.Models.Runtime;
using MultiModal.Vision.Backends;

namespace MultiModal.Vision.Local;

/// <summary>
/// A llava-hf model in this process. Requests are validated and prepared (decode, preprocess, tokenize) on their own
/// threads, then wait in one bounded FIFO queue. A single device thread owned by the queue batches generations
/// continuously: between two tokens it admits waiting requests (their prefill) up to
/// <see cref="VisionOptions.MaxBatchSize"/> running, then advances every running generation by one token in one
/// forward pass; a generation that ends is answered at once. When <see cref="VisionOptions.MaxQueueLength"/> requests
/// already wait, the next gets RESOURCE_EXHAUSTED (QUEUE_FULL). A request cancelled (or past its deadline) while
/// waiting never runs; one cancelled while generating stops before its next token and its KV cache is freed at once.
/// </summary>
public sealed class LocalLlavaBackend : IVisionBackend
{
    /// <summary>The queue's name: its metrics' <c>otel_scope_queue</c> label, which k8s/overlays/gpu/hpa-vision.yaml selects.</summary>
    public const string QueueName = "vision";

    private readonly LlavaEngine _engine;
    private readonly ContinuousBatchingQueue<LlavaWork, LlavaSequenceRunner.Running, GenerationResult> _queue;
    private readonly ILogger _logger;
    private readonly GenerationMetrics _metrics;

    public LocalLlavaBackend(VisionOptions options, ILoggerFactory loggers)
    {
        _logger = loggers.CreateLogger<LocalLlavaBackend>();
        var started = Stopwatch.StartNew();
        _engine = new LlavaEngine(options.ModelPath, options.Device, options.DType, options.MaxPromptTokens, options.PrefillChunkTokens);
        var name = options.ModelName ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(options.ModelPath));
        _metrics = new GenerationMetrics(name);
        // See README "How concurrent requests share the device". No admission window: a lone request starts at once.
        _queue = new ContinuousBatchingQueue<LlavaWork, LlavaSequenceRunner.Running, GenerationResult>(
            new BatchingOptions { Name = QueueName, MaxBatchSize = options.MaxBatchSize, MaxWait = TimeSpan.Zero, MaxQueueLength = options.MaxQueueLength },
            new LlavaSequenceRunner(_engine, _metrics, _logger), loggers.CreateLogger("MultiModal.Vision.Queue"),
            budget: options.MaxBatchTokens > 0 ? new SequenceBudget<LlavaWork>(_engine.PositionsOf, options.MaxBatchTokens) : null);
        ModelInfo = new VisionModelInfo("local", name, _engine.ContextLength, _engine.MaxPromptTokens,
            _engine.Device.ToString(), TorchRuntime.Name(_engine.DType));
        VisionLog.ModelLoaded(_logger, name, options.ModelPath, ModelInfo.Device, ModelInfo.DType, started.ElapsedMilliseconds);
        // A request over MaxBatchTokens still runs alone, so the bound is never below one full context.
        long context = _engine.ContextLength, byCount = options.MaxBatchSize * context;
        var positions = options.MaxBatchTokens > 0 ? Math.Max(context, Math.Min(options.MaxBatchTokens, byCount)) : byCount;
        VisionLog.KvCacheBound(_logger, _engine.KvBytesPerPosition, options.MaxBatchSize, options.MaxBatchTokens, positions,
            positions * _engine.KvBytesPerPosition / (double)(1L << 30));
    }

    public VisionModelInfo ModelInfo { get; }

    public ServingStatsSnapshot Stats => _queue.Stats;

    public int RejectWaiting(Core.Errors.InferenceException reason) => _queue.RejectWaiting(reason);

    public void ShedIfFull() => _queue.ThrowIfFull();

    public async Task<VisionResult> DescribeAsync(VisionRequest request, DateTime deadline, CancellationToken cancellationToken)
    {
        var work = _engine.Prepare(request, onDelta: null, cancellationToken);
        var result = await _queue.EnqueueAsync(work, deadline, cancellationToken);
        return new VisionResult(result.Text, Map(result.FinishReason), Usage(result));
    }

    public async IAsyncEnumerable<VisionStreamEvent> DescribeStreamAsync(
        VisionRequest request, DateTime deadline, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Unbounded: the device thread must never wait for a slow reader; an answer is at most MaxNewTokens deltas.
        var events = Channel.CreateUnbounded<VisionStreamEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var work = _engine.Prepare(request, delta => events.Writer.TryWrite(new VisionStreamEvent(delta)), cancellationToken);
        var generation = _queue.EnqueueAsync(work, deadline, cancellationToken);
        _ = generation.ContinueWith(done =>
        {
            if (done.IsCompletedSuccessfully)
            {
                var result = done.Result;
                events.Writer.TryWrite(new VisionStreamEvent("", Map(result.FinishReason), Usage(result)));
                events.Writer.TryComplete();
            }
            else
            {
                events.Writer.TryComplete(done.Exception?.InnerException ?? new OperationCanceledException(cancellationToken));
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        while (await events.Reader.WaitToReadAsync(cancellationToken))
            while (events.Reader.TryRead(out var e))
                yield return e;
        // A failed generation completes the channel with its exception, which WaitToReadAsync rethrows above.
    }

    private static VisionUsage Usage(GenerationResult result) => new(result.Usage.PromptTokens, result.Usage.CompletionTokens);

    private static VisionFinishReason Map(FinishReason reason) => reason switch
    {
        FinishReason.Stop => VisionFinishReason.Stop,
        FinishReason.Length => VisionFinishReason.Length,
        _ => VisionFinishReason.Cancelled,
    };

    public void Dispose()
    {
        _queue.Dispose();
        _engine.Dispose();
        _metrics.Dispose();
    }
}
