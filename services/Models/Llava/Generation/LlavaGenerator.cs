// Decoding loop modelled on transformers v4.37.2 GenerationMixin.greedy_search / sample for LlavaForConditionalGeneration:
// one prefill over the merged prompt, then one token per step through the KV cache, positions continuing at L, L+1, ...
// Processors see the prompt's input_ids (with its single <image> token) followed by the generated ids, as in 4.37.
// Sampling RNG: a TorchSharp CPU torch.Generator (libtorch's mt19937 CPU generator) seeded with the request's seed, and
// torch.multinomial over the float32 softmax on the CPU, i.e. transformers' `torch.multinomial(probs, 1)`. A seed
// reproduces a sequence with the same weights and libtorch build; bitwise equality with PyTorch's global RNG stream is
// not claimed.
// Concurrent generations: a prefill runs alone, whole at Start or (chunked) one unit per Step: the vision tower a few
// layers at a time, then chunks of the merged prompt, so that a long prompt does not stall the others' decode steps. Step advances the decoding
// sequences with one forward pass (the projections, MLP and LM head batched; attention per row on its own cache), so
// each continues as it would alone.
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
        using var sequence = Start(input_ids, pixel_values, options, onUpdate, cancellationToken);
        while (!sequence.IsFinished)
            Step([sequence]);
        return sequence.GetResult();
    }

    /// <summary>
    /// Validates the prompt and makes a sequence to advance with <see cref="Step"/>; dispose it. Without
    /// <paramref name="prefillChunkTokens"/> it runs the whole prefill and picks the first token here (the sequence may
    /// already be finished, e.g. after an EOS or when the token was cancelled before the prefill). With it, nothing runs
    /// here: the sequence <see cref="GenerationSequence.IsPrefilling"/>, and each <see cref="Step"/> runs one unit of its
    /// prefill (a few vision-tower layers, as many as cost about one chunk, then at most that many prompt positions), the
    /// cancellation token checked before each.
    /// Other arguments as <see cref="Generate(int[], Tensor?, GenerationOptions, Action{GenerationUpdate}?, CancellationToken)"/>.
    /// </summary>
    public GenerationSequence Start(int[] input_ids, Tensor? pixel_values, GenerationOptions options,
        Action<GenerationUpdate>? onUpdate = null, CancellationToken cancellationToken = default, int? prefillChunkTokens = null)
    {
        if (prefillChunkTokens is < 1)
            throw new ArgumentOutOfRangeException(nameof(prefillChunkTokens), prefillChunkTokens, "A prefill chunk takes at least one position.");
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

        var sequence = new GenerationSequence(tokenizer, eosTokenIds, options, input_ids, promptLength, imageRows, maxPositions,
            model.NewCache(promptLength + options.MaxNewTokens), onUpdate, cancellationToken);
        try
        {
            if (cancellationToken.IsCancellationRequested)
            {
                sequence.Finish(FinishReason.Cancelled);
                return sequence;
            }
            using var _ = inference_mode();
            using var scope = NewDisposeScope();
            var device = DeviceOf(model);
            var ids = tensor(input_ids.Select(i => (long)i).ToArray(), device: device).unsqueeze(0);   // (1, T)
            // Aliases: the pending prefill owns (and disposes) its handles, never the caller's tensor.
            sequence.BeginPrefill(new PendingPrefill(ids.alias(), pixel_values?.to(device).alias(), prefillChunkTokens ?? int.MaxValue));
            if (prefillChunkTokens is null)
                while (sequence.IsPrefilling)                         // false once finished (the prefill is freed)
                    sequence.AdvancePrefill(model);
            return sequence;
        }
        catch
        {
            sequence.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One step for every sequence given (none finished): the decoding ones' last tokens go through the model
    /// together, each on its own cache, and each picks its next token (a single sequence runs exactly the unbatched
    /// step); then the first sequence still prefilling runs one unit of its prefill. Failures stay with their sequence,
    /// which ends with <see cref="GenerationSequence.Error"/> while the others go on: its own token choice failing
    /// (non-finite scores, a bad sampling setting), its prefill failing, or its decode pass failing when retried alone
    /// (a failed batched pass is undone and retried one sequence at a time).
    /// </summary>
    public void Step(IReadOnlyList<GenerationSequence> sequences)
    {
        if (sequences.Count == 0) return;
        if (sequences.FirstOrDefault(s => s.IsFinished) is not null)
            throw new InvalidOperationException("A finished sequence cannot take another step.");
        using var _ = inference_mode();
        var decoding = sequences.Where(s => !s.IsPrefilling).ToList();
        if (decoding.Count > 0)
            DecodeIsolatingFailures(decoding);
        if (sequences.FirstOrDefault(s => s.IsPrefilling) is { } prefilling)
        {
            try
            {
                using var scope = NewDisposeScope();
                prefilling.AdvancePrefill(model);
            }
            catch (Exception e)
            {
                prefilling.Fail(e);
            }
        }
    }

    private void DecodeIsolatingFailures(List<GenerationSequence> decoding)
    {
        var lengths = decoding.Select(s => s.Length).ToArray();
        try
        {
            Decode(decoding);
        }
        catch (Exception) when (decoding.Count > 1)
        {
            // Undo what the failed pass appended, then one at a time: only a sequence that fails alone fails.
            for (var r = 0; r < decoding.Count; r++)
                decoding[r].Cache.Truncate(lengths[r]);
            foreach (var sequence in decoding)
            {
                try
                {
                    Decode([sequence]);
                }
                catch (Exception e)
                {
                    sequence.Fail(e);
                }
            }
        }
        catch (Exception e)
        {
            decoding[0].Fail(e);
        }
    }

    // One forward pass for the decoding sequences; throws only if the pass itself fails (before any token is picked).
    private void Decode(IReadOnlyList<GenerationSequence> sequences)
    {
        using var scope = NewDisposeScope();
        var device = DeviceOf(model);
        using var ids = tensor(sequences.Select(s => (long)s.NextInput).ToArray(), device: device).unsqueeze(1);   // (N, 1)
        var logits = model.Step(ids, sequences.Select(s => s.Cache).ToArray());            // (N, 1, V)
        using var last = logits[.., -1].to(CPU);                                          // (N, V)
        for (var r = 0; r < sequences.Count; r++)
        {
            try
            {
                sequences[r].Accept(last.narrow(0, r, 1));                                 // (1, V)
            }
            catch (Exception e)
            {
                sequences[r].Fail(e);
            }
        }
    }

    private static Device DeviceOf(LlavaForConditionalGeneration model) => model.parameters().First().device;
}
