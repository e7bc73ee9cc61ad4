using MultiModal.Core.Errors;
using MultiModal.Models.Clip;
using MultiModal.Models.Errors;
using MultiModal.Models.Llava;
using MultiModal.Models.Llava.Generation;
using MultiModal.Models.Runtime;
using MultiModal.Vision.Backends;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Vision.Local;

/// <summary>
/// A loaded llava-hf folder: generator (model + tokenizer + EOS ids) and CLIP image processor.
/// <see cref="Prepare"/> is thread-safe (tokenizer and image processor only); <see cref="Start"/> and <see cref="Step"/>
/// must be called on the one thread that owns the device.
/// </summary>
public sealed class LlavaEngine : IDisposable
{
    private readonly LlavaGenerator _generator;

    private readonly int? _prefillChunkTokens;

    /// <param name="prefillChunkTokens">Most prompt positions one prefill unit runs (see <see cref="Start"/>); 0 = whole prefills.</param>
    public LlavaEngine(string folder, string device, string dtype, int maxPromptTokens, int prefillChunkTokens = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefillChunkTokens);
        _prefillChunkTokens = prefillChunkTokens == 0 ? null : prefillChunkTokens;
        Device = TorchRuntime.ResolveDevice(device);
        // auto: bf16 on CPUs with native bf16 where a bf16 product measures faster (Bf16SpeedProbe). Measured on an AMD Zen 5 (avx512_bf16, 2 threads; tests/Bench/README.md,
        // "bfloat16 decode at memory speed"): prefill 1.6-2.0x and decode 1.3-1.75x float32, greedy tokens equal to
        // float32's on the golden prompts.
        DType = TorchRuntime.ResolveDType(dtype, Device, bf16OnNativeCpus: true);
        _generator = LlavaGenerator.Load(folder, Device, DType);
        Processor = ClipImageProcessor.FromFolder(folder);
        var imageSize = Config.VisionConfig.ImageSize;
        if (Processor.ImageSize != imageSize)
            throw new InvalidDataException(
                $"preprocessor_config.json crops to {Processor.ImageSize}px but the vision tower takes {imageSize}px images.");
        // At least one position must stay free for the answer.
        var limit = ContextLength - 1;
        MaxPromptTokens = maxPromptTokens == 0 ? limit : Math.Min(maxPromptTokens, limit);
    }

    public LlavaConfig Config => _generator.Model.Config;
    public ClipImageProcessor Processor { get; }
    public Device Device { get; }
    public ScalarType DType { get; }

    /// <summary>The language model's max_position_embeddings (prompt and answer together).</summary>
    public int ContextLength => Config.TextConfig.MaxPositionEmbeddings;

    /// <summary>KV-cache bytes one position of one generation takes: keys and values of every layer, in the model's dtype.</summary>
    public long KvBytesPerPosition
    {
        get
        {
            var text = Config.TextConfig;
            using var probe = empty(0, DType);
            return 2L * text.NumHiddenLayers * text.NumKeyValueHeads * text.HeadDim * probe.ElementSize;
        }
    }

    /// <summary>The most positions <paramref name="work"/>'s cache can hold: its prompt plus its max new tokens, within the context.</summary>
    public long PositionsOf(LlavaWork work) => Math.Min(ContextLength, (long)work.PromptTokens + work.Options.MaxNewTokens);

    /// <summary>The enforced prompt limit (image rows included).</summary>
    public int MaxPromptTokens { get; }

    /// <summary>
    /// Preprocesses the images, builds the LLaVA-1.5 prompt and tokenizes it; rejects a prompt whose merged length
    /// (text tokens + image rows) is over <see cref="MaxPromptTokens"/> with PROMPT_TOO_LONG on field "prompt".
    /// </summary>
    public LlavaWork Prepare(VisionRequest request, Action<string>? onDelta, CancellationToken cancellationToken)
    {
        var size = Processor.ImageSize;
        var plane = 3 * size * size;
        var pixels = new float[request.Images.Count * plane];
        for (var i = 0; i < request.Images.Count; i++)
            Processor.Preprocess(request.Images[i].Decoded).CopyTo(pixels, i * plane);

        LlavaTurn[] turns = [.. request.History.Select(t => new LlavaTurn(t.User, t.Assistant)), new LlavaTurn(request.Prompt, null)];
        var ids = _generator.Tokenizer.Encode(LlavaPrompt.Build(turns, request.Images.Count, request.System));
        var images = request.Images.Count;
        var promptTokens = ids.Length - images + images * Config.ImageSequenceLength;
        Mapping.VisionRequestMapper.CheckPromptTokens(promptTokens, images * Config.ImageSequenceLength, MaxPromptTokens);
        return new LlavaWork(ids, pixels, images, promptTokens, ToOptions(request.Sampling), onDelta, cancellationToken);
    }

    /// <summary>
    /// Starts <paramref name="work"/>'s generation (device thread only): a sequence for <see cref="Step"/>, possibly
    /// already finished. With chunked prefills it only stages the inputs and each <see cref="Step"/> runs one unit of
    /// the prefill; otherwise the whole prefill runs here and the first token is picked. It stops before its next unit
    /// or token once the work's token fires.
    /// </summary>
    public GenerationSequence Start(LlavaWork work)
    {
        using var scope = NewDisposeScope();
        var size = Processor.ImageSize;
        var pixel_values = tensor(work.Pixels, [work.ImageCount, 3, size, size]).to(DType, Device);    // (I, 3, S, S)
        Action<GenerationUpdate>? onUpdate = work.OnDelta is { } onDelta
            ? update => { if (update.TextDelta.Length > 0) onDelta(update.TextDelta); }
            : null;
        try
        {
            return _generator.Start(work.InputIds, pixel_values, work.Options, onUpdate, work.CancellationToken, _prefillChunkTokens);
        }
        catch (InputRejectedException e) when (e.Kind == InputRejection.PromptTooLong)
        {
            throw e.WithField("prompt");
        }
    }

    /// <summary>One step for every running sequence: one batched decode pass, and one prefill unit (device thread only).</summary>
    public void Step(IReadOnlyList<GenerationSequence> running) => _generator.Step(running);

    // Greedy unless a temperature is set (transformers: do_sample=False ignores the sampling knobs).
    private static GenerationOptions ToOptions(VisionSampling s) => s.Temperature is { } temperature
        ? new GenerationOptions
        {
            MaxNewTokens = s.MaxTokens, DoSample = true, Temperature = temperature, TopK = s.TopK, TopP = s.TopP,
            Seed = s.Seed is { } seed ? unchecked((long)seed) : null, StopStrings = s.Stop,
        }
        : new GenerationOptions { MaxNewTokens = s.MaxTokens, StopStrings = s.Stop };

    public void Dispose() => _generator.Model.Dispose();
}
