using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Llava.Generation;

/// <summary>
/// One generation in progress: its KV cache, sampling state, streamed text and finish. Made by
/// <see cref="LlavaGenerator.Start"/> (the prefill and the first token) and advanced by <see cref="LlavaGenerator.Step"/>,
/// alone or together with others. Once finished its cache is freed and <see cref="Result"/> is set. Not thread-safe:
/// use it on the thread that owns the model's device.
/// </summary>
public sealed class GenerationSequence : IDisposable
{
    private readonly LlamaTokenizer _tokenizer;
    private readonly IReadOnlyCollection<int> _eosTokenIds;
    private readonly GenerationOptions _options;
    private readonly torch.Generator? _generator;
    private readonly LogitsProcessorList _processors, _warpers;
    private readonly StreamingDetokenizer _detokenizer;
    private readonly StopStringMatcher _stops;
    private readonly List<long> _history;                                           // what processors see
    private readonly List<int> _generated = [];
    private readonly StringBuilder _text = new();
    private readonly Action<GenerationUpdate>? _onUpdate;
    private readonly int _promptLength, _imageRows, _maxPositions;
    private readonly long? _seed;

    internal GenerationSequence(LlamaTokenizer tokenizer, IReadOnlyCollection<int> eosTokenIds, GenerationOptions options,
        int[] inputIds, int promptLength, int imageRows, int maxPositions, LlamaKvCache cache,
        Action<GenerationUpdate>? onUpdate, CancellationToken cancellationToken)
    {
        (_tokenizer, _eosTokenIds, _options, _onUpdate) = (tokenizer, eosTokenIds, options, onUpdate);
        (_promptLength, _imageRows, _maxPositions) = (promptLength, imageRows, maxPositions);
        Cache = cache;
        CancellationToken = cancellationToken;
        _seed = options.DoSample ? options.Seed ?? Random.Shared.NextInt64(0, long.MaxValue) : null;
        _generator = _seed is { } s ? new torch.Generator((ulong)s, CPU) : null;
        _processors = LogitsProcessorList.ForProcessors(options);
        _warpers = LogitsProcessorList.ForWarpers(options);
        _detokenizer = tokenizer.CreateStreamingDetokenizer(skipSpecialTokens: true);
        _stops = new StopStringMatcher(options.StopStrings);
        _history = inputIds.Select(id => (long)id).ToList();
    }

    /// <summary>Set once generation has ended; the sequence needs no more steps.</summary>
    public GenerationResult? Result { get; private set; }

    /// <summary>Set when this generation failed on its own (e.g. non-finite scores); it needs no more steps.</summary>
    public Exception? Error { get; private set; }

    public bool IsFinished => Result is not null || Error is not null;

    /// <summary>
    /// True while part of the prompt's prefill has not run yet (a chunked prefill; see <see cref="LlavaGenerator.Start"/>):
    /// the next <see cref="LlavaGenerator.Step"/> runs its next unit instead of a decode step.
    /// </summary>
    public bool IsPrefilling => Prefill is not null;

    internal PendingPrefill? Prefill { get; private set; }

    /// <summary>The result, or the generation's own failure rethrown (with its original stack).</summary>
    public GenerationResult GetResult()
    {
        if (Error is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(Error);
        return Result ?? throw new InvalidOperationException("The generation has not finished.");
    }

    /// <summary>Stopwatch timestamp of the first generated token; null until there is one.</summary>
    public long? FirstTokenAt { get; private set; }

    /// <summary>Positions in the cache: the merged prompt plus every token fed back so far.</summary>
    public long Length => Cache.Length;

    internal LlamaKvCache Cache { get; }

    internal CancellationToken CancellationToken { get; }

    /// <summary>The token the next step feeds (the last one generated).</summary>
    internal int NextInput => _generated[^1];

    internal void BeginPrefill(PendingPrefill prefill) => Prefill = prefill;

    /// <summary>
    /// Runs the next unit of the pending prefill; once the whole prompt is in the cache, picks the first token. Ends the
    /// sequence with <see cref="FinishReason.Cancelled"/> instead when its token fired.
    /// </summary>
    internal void AdvancePrefill(LlavaForConditionalGeneration model)
    {
        if (CancellationToken.IsCancellationRequested)
        {
            Finish(FinishReason.Cancelled);
            return;
        }
        using var logits = Prefill!.RunNext(model, Cache);
        if (logits is null) return;
        Prefill = null;
        using var cpu = logits.to(CPU);
        Accept(cpu);
    }

    /// <summary>
    /// Takes the scores for the next position (1, V) float32 on the CPU: picks a token (processors, then argmax or one
    /// draw), streams its text and ends the sequence on EOS, a stop string, the length limits or cancellation.
    /// </summary>
    internal void Accept(Tensor logits)
    {
        var next = SelectToken(logits);
        FirstTokenAt ??= System.Diagnostics.Stopwatch.GetTimestamp();
        _generated.Add(next);
        _history.Add(next);

        var isEos = _eosTokenIds.Contains(next);
        var released = isEos ? "" : _stops.Push(_detokenizer.Append(next));
        Emit(next, released);
        if (isEos || _stops.Stopped)
            Finish(FinishReason.Stop);
        else if (_generated.Count >= _options.MaxNewTokens || _promptLength + _generated.Count >= _maxPositions)
            Finish(FinishReason.Length);
        else if (CancellationToken.IsCancellationRequested)
            Finish(FinishReason.Cancelled);
    }

    /// <summary>Ends the sequence with <paramref name="error"/>; its cache is freed at once.</summary>
    internal void Fail(Exception error)
    {
        if (IsFinished) return;
        Error = error;
        ReleaseDeviceMemory();
    }

    /// <summary>Ends the sequence: text held back (an unfinished character, a possible stop-string prefix) is final now.</summary>
    internal void Finish(FinishReason reason)
    {
        if (IsFinished) return;
        if (!_stops.Stopped)
        {
            var rest = _stops.Push(_detokenizer.Flush()) + _stops.Flush();
            if (rest.Length > 0) Emit(null, rest);
        }
        Result = new GenerationResult(_generated, _text.ToString(), reason,
            new GenerationUsage(_promptLength, _imageRows, _generated.Count), _seed);
        ReleaseDeviceMemory();                                                      // the KV cache is freed at once
    }

    private void ReleaseDeviceMemory()
    {
        Prefill?.Dispose();
        Prefill = null;
        Cache.Dispose();
    }

    private void Emit(int? id, string delta)
    {
        _text.Append(delta);
        _onUpdate?.Invoke(new GenerationUpdate(id, delta));
    }

    // Processors (and, when sampling, warpers) on the last position's scores, then argmax or one multinomial draw.
    private int SelectToken(Tensor logits)
    {
        using var scope = NewDisposeScope();
        using var ids = tensor(_history.ToArray()).unsqueeze(0);                        // (1, T)
        var scores = _processors.Process(ids, logits);                                  // (1, V)
        if (_generator is null)
            return (int)scores.argmax(-1).item<long>();
        var warped = _warpers.Process(ids, scores);
        var probs = warped.softmax(-1);
        return (int)multinomial(probs, 1, generator: _generator).item<long>();
    }

    public void Dispose()
    {
        ReleaseDeviceMemory();
        _generator?.Dispose();
    }
}
