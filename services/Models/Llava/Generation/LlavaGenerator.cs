// Decoding loop modelled on transformers v4.37.2 GenerationMixin.greedy_search / sample for LlavaForConditionalGeneration:
// one prefill over the merged prompt, then one token per step through the KV cache, positions continuing at L, L+1, ...
// Processors see the prompt's input_ids (with its single <image> token) followed by the generated ids, as in 4.37.
// Sampling RNG: a TorchSharp CPU torch.Generator (libtorch's mt19937 CPU generator) seeded with the request's seed, and
// torch.multinomial over the float32 softmax on the CPU, i.e. transformers' `torch.multinomial(probs, 1)`. A seed
// reproduces a sequence with the same weights and libtorch build; bitwise equality with PyTorch's global RNG stream is
// not claimed.
using MultiModal.Models.Errors;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Llava.Generation;

/// <summary>
/// Generates text for a LLaVA prompt (with images) token by token. Not thread-safe: call from the one thread that owns
/// the model's device; every step runs in its own dispose scope and inference mode.
/// </summary>
public sealed class LlavaGenerator(LlavaForConditionalGeneration model, LlamaTokenizer tokenizer, IReadOnlyCollection<int> eosTokenIds)
{
    /// <summary>Uses the tokenizer's EOS as the only end-of-sequence id.</summary>
    public LlavaGenerator(LlavaForConditionalGeneration model, LlamaTokenizer tokenizer) : this(model, tokenizer, [tokenizer.EosTokenId]) { }

    /// <summary>
    /// Loads everything a llava-hf folder holds for generation: the model (<see cref="LlavaCheckpoint.Load"/>), the
    /// tokenizer and the end-of-sequence ids of generation_config.json.
    /// </summary>
    public static LlavaGenerator Load(string folder, Device device, ScalarType dtype)
    {
        var tokenizer = LlamaTokenizer.Load(folder);
        var eos = GenerationConfigFile.Load(folder, tokenizer.EosTokenId).EosTokenIds;
        return new LlavaGenerator(LlavaCheckpoint.Load(folder, device, dtype), tokenizer, eos.ToArray());
    }

    /// <summary>Ids that end generation with <see cref="FinishReason.Stop"/>.</summary>
    public IReadOnlyCollection<int> EosTokenIds => eosTokenIds;

    public LlavaForConditionalGeneration Model => model;
    public LlamaTokenizer Tokenizer => tokenizer;

    /// <summary>Tokenizes <paramref name="prompt"/> (see <see cref="LlavaPrompt"/>) and generates; see the other overload.</summary>
    public GenerationResult Generate(string prompt, Tensor? pixel_values, GenerationOptions options,
        Action<GenerationUpdate>? onUpdate = null, CancellationToken cancellationToken = default) =>
        Generate(tokenizer.Encode(prompt), pixel_values, options, onUpdate, cancellationToken);

    /// <summary>
    /// Runs the prefill and up to <see cref="GenerationOptions.MaxNewTokens"/> decode steps. <paramref name="input_ids"/>
    /// hold one <c>&lt;image&gt;</c> per image in <paramref name="pixel_values"/> (I, 3, H, W). Every token is reported
    /// to <paramref name="onUpdate"/> with its text delta; the concatenated deltas equal the result's text. The
    /// cancellation token is checked before the prefill and before every step; cancelling returns what exists so far
    /// with <see cref="FinishReason.Cancelled"/>.
    /// </summary>
    public GenerationResult Generate(int[] input_ids, Tensor? pixel_values, GenerationOptions options,
        Action<GenerationUpdate>? onUpdate = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        if (input_ids.Length == 0)
            throw new InputRejectedException(InputRejection.Invalid, "The prompt is empty.");
        var images = pixel_values is null ? 0 : (int)pixel_values.shape[0];
        var imageRows = images * model.Config.ImageSequenceLength;
        var imageTokens = input_ids.Count(id => id == model.Config.ImageTokenIndex);
        // 4.37 layout: one <image> per image is replaced by its rows; the expanded layout already has the rows.
        var promptLength = imageTokens == images ? input_ids.Length - images + imageRows : input_ids.Length;
        var maxPositions = model.Config.TextConfig.MaxPositionEmbeddings;
        if (promptLength >= maxPositions)
            throw new InputRejectedException(InputRejection.PromptTooLong,
                $"The prompt takes {promptLength} positions ({imageRows} for images); the model allows {maxPositions} including the output.");

        var seed = options.DoSample ? options.Seed ?? Random.Shared.NextInt64(0, long.MaxValue) : (long?)null;
        using var generator = seed is { } s ? new torch.Generator((ulong)s, CPU) : null;
        var processors = LogitsProcessorList.ForProcessors(options);
        var warpers = LogitsProcessorList.ForWarpers(options);
        var detokenizer = tokenizer.CreateStreamingDetokenizer(skipSpecialTokens: true);
        var stops = new StopStringMatcher(options.StopStrings);
        var history = input_ids.Select(id => (long)id).ToList();                    // what processors see
        var generated = new List<int>();
        var text = new System.Text.StringBuilder();
        void Emit(int? id, string delta)
        {
            text.Append(delta);
            onUpdate?.Invoke(new GenerationUpdate(id, delta));
        }

        using var _ = inference_mode();
        using var cache = model.NewCache();
        var finish = FinishReason.Length;
        Tensor? nextLogits = null;                                                       // (1, V) float32 on the CPU
        try
        {
            if (cancellationToken.IsCancellationRequested)
                return Result(FinishReason.Cancelled);
            using (var scope = NewDisposeScope())
            {
                using var ids = tensor(input_ids.Select(i => (long)i).ToArray(), device: DeviceOf(model)).unsqueeze(0);
                var output = model.Forward(ids, pixel_values?.to(DeviceOf(model)), cache);
                nextLogits = output.Logits[.., -1].to(CPU).MoveToOuterDisposeScope();
            }

            while (true)
            {
                var next = SelectToken(nextLogits, history, processors, warpers, generator);
                nextLogits.Dispose();
                nextLogits = null;
                generated.Add(next);
                history.Add(next);

                var isEos = eosTokenIds.Contains(next);
                var released = isEos ? "" : stops.Push(detokenizer.Append(next));
                Emit(next, released);
                if (isEos || stops.Stopped) { finish = FinishReason.Stop; break; }
                if (generated.Count >= options.MaxNewTokens || promptLength + generated.Count >= maxPositions) { finish = FinishReason.Length; break; }
                if (cancellationToken.IsCancellationRequested) { finish = FinishReason.Cancelled; break; }

                using var scope = NewDisposeScope();
                using var step = tensor(new long[] { next }, device: DeviceOf(model)).view(1, 1);
                var output = model.Forward(step, null, cache);
                nextLogits = output.Logits[.., -1].to(CPU).MoveToOuterDisposeScope();
            }
            return Result(finish);
        }
        finally
        {
            nextLogits?.Dispose();
        }

        GenerationResult Result(FinishReason reason)
        {
            // Text held back (an unfinished character, a possible stop-string prefix) is final now.
            if (!stops.Stopped)
            {
                var rest = stops.Push(detokenizer.Flush()) + stops.Flush();
                if (rest.Length > 0) Emit(null, rest);
            }
            return new GenerationResult(generated, text.ToString(), reason,
                new GenerationUsage(promptLength, imageRows, generated.Count), seed);
        }
    }

    // Processors (and, when sampling, warpers) on the last position's scores, then argmax or one multinomial draw.
    private static int SelectToken(Tensor logits, List<long> history, LogitsProcessorList processors, LogitsProcessorList warpers,
        torch.Generator? generator)
    {
        using var scope = NewDisposeScope();
        using var ids = tensor(history.ToArray()).unsqueeze(0);                          // (1, T)
        var scores = processors.Process(ids, logits);                                    // (1, V)
        if (generator is null)
            return (int)scores.argmax(-1).item<long>();
        var warped = warpers.Process(ids, scores);
        var probs = warped.softmax(-1);
        return (int)multinomial(probs, 1, generator: generator).item<long>();
    }

    private static Device DeviceOf(LlavaForConditionalGeneration model) => model.parameters().First().device;
}
