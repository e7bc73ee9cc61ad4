// Decoding loop modelled on transformers v4.37.2 GenerationMixin.greedy_search / sample for LlavaForConditionalGeneration:
// one prefill over the merged prompt, then one token per step through the KV cache, positions continuing at L, L+1, ...
// Processors see the prompt's input_ids (with its single <image> token) followed by the generated ids, as in 4.37.
// Sampling RNG: a TorchSharp CPU torch.Generator (libtorch's mt19937 CPU generator) seeded with the request's seed, and
// torch.multinomial over the float32 softmax on the CPU, i.e. transformers' `torch.multinomial(probs, 1)`. A seed
// reproduces a sequence with the same weights and libtorch build; bitwise equality with PyTorch's global RNG stream is
// not claimed.
// Concurrent generations: Start runs each prefill alone; Step advances several sequences with one forward pass (the
// projections, MLP and LM head batched; attention per row on its own cache), so each continues as it would alone.
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
    /// Validates the prompt, runs its prefill and picks the first token: a sequence to advance with <see cref="Step"/>
    /// (it may already be finished, e.g. after an EOS or when the token was cancelled before the prefill). Dispose it.
    /// Same arguments as <see cref="Generate(int[], Tensor?, GenerationOptions, Action{GenerationUpdate}?, CancellationToken)"/>.
    /// </summary>
    public GenerationSequence Start(int[] input_ids, Tensor? pixel_values, GenerationOptions options,
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
            using var ids = tensor(input_ids.Select(i => (long)i).ToArray(), device: DeviceOf(model)).unsqueeze(0);
            var output = model.Forward(ids, pixel_values?.to(DeviceOf(model)), sequence.Cache);
            sequence.Accept(output.Logits[.., -1].to(CPU));                                // (1, V)
            return sequence;
        }
        catch
        {
            sequence.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One decode step for every sequence given (none finished): their last tokens go through the model together,
    /// each on its own cache, and each picks its next token. A single sequence runs exactly the unbatched step. A
    /// sequence whose own token choice fails (non-finite scores, a bad sampling setting) ends with
    /// <see cref="GenerationSequence.Error"/>; the others go on. A failing forward pass throws for all of them.
    /// </summary>
    public void Step(IReadOnlyList<GenerationSequence> sequences)
    {
        if (sequences.Count == 0) return;
        if (sequences.FirstOrDefault(s => s.IsFinished) is not null)
            throw new InvalidOperationException("A finished sequence cannot take another step.");
        using var _ = inference_mode();
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
