using System.Diagnostics;
using MultiModal.Core.Inference;
using MultiModal.Models.Llava.Generation;

namespace MultiModal.Vision.Local;

/// <summary>
/// Drives generations for the continuous-batching queue: a prefill per admitted request, then one forward pass per
/// token for every running generation together. Called on the queue's device thread only.
/// </summary>
internal sealed class LlavaSequenceRunner(LlavaEngine engine, GenerationMetrics metrics, ILogger logger)
    : ISequenceRunner<LlavaWork, LlavaSequenceRunner.Running, GenerationResult>
{
    /// <summary>A generation, its request, and when its prefill began (for the log line when it ends).</summary>
    internal sealed class Running(GenerationSequence sequence, LlavaWork work, long startedAt) : IDisposable
    {
        public GenerationSequence Sequence { get; } = sequence;
        public LlavaWork Work { get; } = work;
        public long StartedAt { get; } = startedAt;
        public void Dispose() => Sequence.Dispose();
    }

    public Running Start(LlavaWork request)
    {
        var startedAt = Stopwatch.GetTimestamp();
        try
        {
            return new Running(engine.Start(request), request, startedAt);
        }
        catch
        {
            metrics.Failed();
            throw;
        }
    }

    public void Step(IReadOnlyList<Running> running) => engine.Step(running.Select(r => r.Sequence).ToArray());

    public bool TryGetResult(Running sequence, out GenerationResult result)
    {
        result = null!;
        if (!sequence.Sequence.IsFinished) return false;
        if (sequence.Sequence.Error is not null)
            metrics.Failed();
        result = sequence.Sequence.GetResult();                     // a generation's own failure fails only its request
        var finishedAt = Stopwatch.GetTimestamp();
        metrics.Finished(result, sequence.Work.AcceptedAt, sequence.Sequence.FirstTokenAt, finishedAt);
        VisionLog.GenerationFinished(logger, result.Usage.PromptTokens, result.Usage.CompletionTokens,
            result.FinishReason.ToString(), Stopwatch.GetElapsedTime(sequence.StartedAt, finishedAt).TotalMilliseconds);
        return true;
    }
}
