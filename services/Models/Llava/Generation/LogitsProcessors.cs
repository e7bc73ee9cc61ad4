// Port of transformers v4.37.2 generation/logits_process.py (RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper,
// TopKLogitsWarper, TopPLogitsWarper) and the order GenerationMixin._get_logits_processor / _get_logits_warper build
// them in for a single-beam search. Filtered scores become -inf, as filter_value does.
using static TorchSharp.torch;

namespace MultiModal.Models.Llava.Generation;

/// <summary>Rewrites next-token scores (B, V) given the ids so far (B, T); returns a new tensor.</summary>
public interface ILogitsProcessor
{
    Tensor Process(Tensor input_ids, Tensor scores);
}

/// <summary>Runs processors in order (transformers' LogitsProcessorList).</summary>
public sealed class LogitsProcessorList(IReadOnlyList<ILogitsProcessor> processors) : ILogitsProcessor
{
    public IReadOnlyList<ILogitsProcessor> Processors { get; } = processors;

    public Tensor Process(Tensor input_ids, Tensor scores)
    {
        var current = scores.alias();
        foreach (var processor in Processors)
        {
            var next = processor.Process(input_ids, current);
            current.Dispose();
            current = next;
        }
        return current;
    }

    /// <summary>_get_logits_processor (the parts generation options reach): the repetition penalty when ≠ 1.</summary>
    public static LogitsProcessorList ForProcessors(GenerationOptions options) => new(
        options.RepetitionPenalty != 1.0 ? [new RepetitionPenaltyLogitsProcessor(options.RepetitionPenalty)] : []);

    /// <summary>_get_logits_warper: Temperature (≠ 1), TopK (≠ 0), TopP (&lt; 1), in that order; none when greedy.</summary>
    public static LogitsProcessorList ForWarpers(GenerationOptions options)
    {
        var warpers = new List<ILogitsProcessor>();
        if (!options.DoSample) return new(warpers);
        if (options.Temperature != 1.0) warpers.Add(new TemperatureLogitsWarper(options.Temperature));
        if (options.TopK != 0) warpers.Add(new TopKLogitsWarper(options.TopK));
        if (options.TopP < 1.0) warpers.Add(new TopPLogitsWarper(options.TopP));
        return new(warpers);
    }
}

/// <summary>Divides positive scores of seen tokens by the penalty and multiplies negative ones by it.</summary>
public sealed class RepetitionPenaltyLogitsProcessor(double penalty) : ILogitsProcessor
{
    public Tensor Process(Tensor input_ids, Tensor scores)
    {
        using var score = scores.gather(1, input_ids);                                      // (B, T)
        using var negative = score.lt(0);
        using var penalized = where(negative, score * penalty, score / penalty);
        return scores.scatter(1, input_ids, penalized);
    }
}

/// <summary>scores / temperature.</summary>
public sealed class TemperatureLogitsWarper(double temperature) : ILogitsProcessor
{
    public Tensor Process(Tensor input_ids, Tensor scores) => scores / temperature;
}

/// <summary>Keeps every score ≥ the k-th largest (so ties at the boundary stay); the rest become -inf.</summary>
public sealed class TopKLogitsWarper(int topK, int minTokensToKeep = 1) : ILogitsProcessor
{
    public Tensor Process(Tensor input_ids, Tensor scores)
    {
        var k = (int)Math.Min(Math.Max(topK, minTokensToKeep), scores.shape[^1]);
        var (values, indices) = scores.topk(k);
        using var _v = values;
        using var _i = indices;
        using var kth = values.narrow(-1, k - 1, 1);                                         // (B, 1)
        using var remove = scores.lt(kth);
        return scores.masked_fill(remove, float.NegativeInfinity);
    }
}

/// <summary>
/// Sorts ascending, removes the tokens whose cumulative probability is ≤ 1 − top_p, always keeping the
/// <paramref name="minTokensToKeep"/> most likely.
/// </summary>
public sealed class TopPLogitsWarper(double topP, int minTokensToKeep = 1) : ILogitsProcessor
{
    public Tensor Process(Tensor input_ids, Tensor scores)
    {
        var (sorted_logits, sorted_indices) = sort(scores, dim: -1, descending: false);
        using var _s = sorted_logits;
        using var _i = sorted_indices;
        using var probs = sorted_logits.softmax(-1);
        using var cumulative_probs = probs.cumsum(-1);
        using var sorted_remove = cumulative_probs.le(1 - topP);                             // (B, V) ascending order
        var v = scores.shape[^1];
        sorted_remove.narrow(-1, v - Math.Min(minTokensToKeep, v), Math.Min(minTokensToKeep, v)).fill_(false);
        using var remove = sorted_remove.scatter(1, sorted_indices, sorted_remove);          // back to vocabulary order
        return scores.masked_fill(remove, float.NegativeInfinity);
    }
}
