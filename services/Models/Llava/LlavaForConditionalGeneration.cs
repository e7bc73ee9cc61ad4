// Port of transformers v4.37.2 models/llava/modeling_llava.py (LlavaMultiModalProjector, LlavaForConditionalGeneration:
// forward, _merge_input_ids_with_image_features), commit 345b9b1a6a308a1fa6559251eb33ead2211240ac.
// Module fields are the checkpoint keys of llava-hf repositories: vision_tower.vision_model.*, multi_modal_projector.*,
// language_model.model.*, language_model.lm_head.* (the newer model.* layout is mapped in Weights/KeyRemaps.Llava.cs).
// Deviations: batches without padding only (every row merges to the same length; attention mask all ones, positions
// 0..L-1), no labels/loss. Besides 4.37's one-<image>-token-per-image input, the newer processor-side layout (<image>
// repeated once per image row) is accepted and gives the same merged sequence.
using MultiModal.Models.Clip;
using MultiModal.Models.Errors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Models.Llava;

/// <summary>CLIPVisionModel's wrapper level, so the tower's keys read <c>vision_tower.vision_model.*</c>.</summary>
public sealed class LlavaVisionTower : nn.Module
{
    private readonly ClipVisionTransformer vision_model;

    public LlavaVisionTower(ClipVisionConfig config, Device? device = null) : base(nameof(LlavaVisionTower))
    {
        vision_model = new ClipVisionTransformer(config, device);
        RegisterComponents();
    }

    public ClipVisionTransformer VisionModel => vision_model;
}

/// <summary>LlavaMultiModalProjector: <c>linear_2(act(linear_1(x)))</c>, vision hidden → text hidden, both with bias.</summary>
public sealed class LlavaMultiModalProjector : Module<Tensor, Tensor>
{
    private readonly Linear linear_1, linear_2;
    private readonly string _act;

    public LlavaMultiModalProjector(LlavaConfig c, Device? device = null) : base(nameof(LlavaMultiModalProjector))
    {
        _act = c.ProjectorHiddenAct;
        linear_1 = Linear(c.VisionConfig.HiddenSize, c.TextConfig.HiddenSize, hasBias: true, device: device);
        linear_2 = Linear(c.TextConfig.HiddenSize, c.TextConfig.HiddenSize, hasBias: true, device: device);
        RegisterComponents();
    }

    /// <summary>linear_1 alone (before the activation): (.., Dv) → (.., Dt).</summary>
    public Tensor Linear1(Tensor image_features) => linear_1.call(image_features);

    public override Tensor forward(Tensor image_features)
    {
        using var h = linear_1.call(image_features);
        using var a = Activation(_act, h);
        return linear_2.call(a);
    }

    // ACT2FN entries a llava-hf config may name; "gelu" is the exact erf GELU.
    private static Tensor Activation(string name, Tensor x) => name switch
    {
        "gelu" => functional.gelu(x),
        "gelu_new" or "gelu_pytorch_tanh" => functional.gelu(x, approximate: TorchSharp.Modules.GELU.Approximate.tanh),
        "quick_gelu" => x * functional.sigmoid(1.702 * x),
        "silu" => functional.silu(x),
        "relu" => functional.relu(x),
        _ => throw new NotSupportedException($"projector_hidden_act '{name}' is not supported."),
    };
}

/// <summary>The merged decoder input: embeddings (B, L, C), position_ids (B, L) and attention mask (B, L), int64.</summary>
public sealed record LlavaMergedInputs(Tensor InputsEmbeds, Tensor PositionIds, Tensor AttentionMask);

/// <summary>Logits (B, L, V) float32 for the positions fed, with the merged inputs and decoder hidden states when asked.</summary>
public sealed record LlavaForwardOutput(Tensor Logits, LlavaMergedInputs? Merged, IReadOnlyList<Tensor>? DecoderHiddenStates);

/// <summary>
/// LlavaForConditionalGeneration: CLIP vision tower → projector → Llama decoder, with each image's projected patch rows
/// put where its <c>&lt;image&gt;</c> token was. Every module takes the device to build on (null = CPU; <c>META</c>
/// builds names and shapes only, for manifest tests).
/// </summary>
public sealed class LlavaForConditionalGeneration : nn.Module
{
    private readonly LlavaVisionTower vision_tower;
    private readonly LlavaMultiModalProjector multi_modal_projector;
    private readonly LlamaForCausalLM language_model;

    public LlavaConfig Config { get; }

    public LlavaForConditionalGeneration(LlavaConfig config, Device? device = null) : base(nameof(LlavaForConditionalGeneration))
    {
        config.Validate();
        Config = config;
        vision_tower = new LlavaVisionTower(config.VisionConfig, device);
        multi_modal_projector = new LlavaMultiModalProjector(config, device);
        language_model = new LlamaForCausalLM(config.TextConfig, device);
        RegisterComponents();
    }

    public ClipVisionTransformer VisionTower => vision_tower.VisionModel;
    public LlavaMultiModalProjector MultiModalProjector => multi_modal_projector;
    public LlamaForCausalLM LanguageModel => language_model;

    /// <summary>
    /// hidden_states[vision_feature_layer] of the vision tower (no post_layernorm), without the CLS row for strategy
    /// "default": (I, 3, H, W) → (I, N, Dv).
    /// </summary>
    public Tensor SelectImageFeatures(Tensor pixel_values)
    {
        var hidden = VisionEmbed(pixel_values);
        if (VisionFeatureLayerIndex > 0)
        {
            using var input = hidden;
            hidden = vision_tower.VisionModel.ForwardEncoderLayers(input, 0, VisionFeatureLayerIndex);
        }
        using var selected = hidden;
        return SelectFeatures(selected);
    }

    /// <summary>
    /// Which of the vision tower's hidden states (0 = the embeddings, i = layer i's output) holds the features: the
    /// layers after it never need to run (for the default −2, the last one).
    /// </summary>
    public int VisionFeatureLayerIndex => Config.VisionFeatureLayer < 0
        ? VisionTower.NumLayers + 1 + Config.VisionFeatureLayer
        : Config.VisionFeatureLayer;

    /// <summary>The tower's hidden_states[0] for (I, 3, H, W) images, after checking their shape: (I, 1+N, Dv).</summary>
    public Tensor VisionEmbed(Tensor pixel_values)
    {
        var expected = Config.VisionConfig.ImageSize;
        if (pixel_values.dim() != 4 || pixel_values.shape[1] != Config.VisionConfig.NumChannels
            || pixel_values.shape[2] != expected || pixel_values.shape[3] != expected)
            throw new InputRejectedException(InputRejection.Invalid,
                $"pixel_values must be (images, {Config.VisionConfig.NumChannels}, {expected}, {expected}); got ({string.Join(", ", pixel_values.shape)}).");
        return vision_tower.VisionModel.EmbedForEncoder(pixel_values);
    }

    /// <summary>hidden_states[<see cref="VisionFeatureLayerIndex"/>] → the selected features: without the CLS row for strategy "default", (I, N, Dv).</summary>
    public Tensor SelectFeatures(Tensor selected_hidden_state) => Config.VisionFeatureSelectStrategy == "default"
        ? selected_hidden_state.narrow(1, 1, selected_hidden_state.shape[1] - 1)
        : selected_hidden_state.alias();

    /// <summary>
    /// How many vision encoder layers over <paramref name="images"/> images cost about as much as a decoder pass over
    /// <paramref name="tokens"/> prompt positions (at least 1), counting multiply-adds as parameters × positions (the
    /// attention scores left out): a chunked prefill runs the tower in units of that many layers.
    /// </summary>
    public int VisionLayersWorth(long tokens, int images)
    {
        _parameterCounts ??= (
            VisionLayer: vision_tower.VisionModel.parameters().Sum(p => p.numel()) / (double)VisionTower.NumLayers,
            Decoder: language_model.Model.parameters().Sum(p => p.numel()) - language_model.Model.EmbedWeight.numel());
        var (visionLayer, decoder) = _parameterCounts.Value;
        var layerCost = visionLayer * Math.Max(1, images) * (Config.VisionConfig.NumPatches + 1);
        return (int)Math.Clamp(Math.Floor(decoder * (double)tokens / layerCost), 1, VisionTower.NumLayers);
    }

    private (double VisionLayer, double Decoder)? _parameterCounts;

    /// <summary>Vision tower, feature selection and projector: (I, 3, H, W) → (I, N, Dt).</summary>
    public Tensor GetImageFeatures(Tensor pixel_values)
    {
        using var selected = SelectImageFeatures(pixel_values);
        return multi_modal_projector.call(selected);
    }

    /// <summary>
    /// _merge_input_ids_with_image_features: input_ids (B, T) with image tokens, inputs_embeds (B, T, C) and
    /// image_features (I, N, C), used in order. With one image token per image (transformers 4.37), each token becomes
    /// its image's N rows (L = T − k + k·N); with N consecutive image tokens per image (newer processors), those rows
    /// are overwritten (L = T). Positions are 0..L−1 and the mask is all ones.
    /// </summary>
    public LlavaMergedInputs MergeInputIdsWithImageFeatures(Tensor input_ids, Tensor inputs_embeds, Tensor image_features)
    {
        long batch = input_ids.shape[0], numImages = image_features.shape[0], n = image_features.shape[1];
        var ids = input_ids.to(ScalarType.Int64).cpu().data<long>().ToArray();
        var t = (int)input_ids.shape[1];
        long imageTokens = ids.LongCount(id => id == Config.ImageTokenIndex);
        var expanded = imageTokens != numImages && imageTokens == numImages * n;
        if (!expanded && imageTokens != numImages)
            throw new InputRejectedException(InputRejection.Invalid,
                $"The prompt has {imageTokens} image tokens but {numImages} image(s) were given; put one <image> per image.");

        var rows = new List<Tensor>();
        var image = 0;
        for (var b = 0; b < batch; b++)
        {
            var pieces = new List<Tensor>();
            var start = 0;
            for (var i = 0; i < t;)
            {
                if (ids[b * t + i] != Config.ImageTokenIndex) { i++; continue; }
                var span = expanded ? (int)n : 1;
                if (i + span > t || Enumerable.Range(i, span).Any(j => ids[b * t + j] != Config.ImageTokenIndex))
                    throw new InputRejectedException(InputRejection.Invalid,
                        $"Expanded image tokens must come in runs of {n} (one run per image).");
                if (i > start) pieces.Add(inputs_embeds[b].narrow(0, start, i - start));                 // text before: (t_i, C)
                pieces.Add(image_features[image++].to(inputs_embeds.dtype));                             // image rows: (N, C)
                i += span;
                start = i;
            }
            if (t > start) pieces.Add(inputs_embeds[b].narrow(0, start, t - start));
            rows.Add(cat(pieces, dim: 0));
        }
        if (rows.Select(r => r.shape[0]).Distinct().Count() != 1)
            throw new InputRejectedException(InputRejection.Invalid,
                "Every row of a batch must merge to the same length (padded batches are not supported).");

        var merged = stack(rows, dim: 0);                                                               // (B, L, C)
        var length = merged.shape[1];
        var positions = arange(length, dtype: ScalarType.Int64, device: merged.device).unsqueeze(0).expand(batch, length).contiguous();
        var mask = ones(batch, length, dtype: ScalarType.Int64, device: merged.device);
        return new LlavaMergedInputs(merged, positions, mask);
    }

    /// <summary>
    /// LlavaForConditionalGeneration.forward. With <paramref name="pixel_values"/> (I, 3, H, W): embeds input_ids,
    /// merges the projected image rows, and runs the decoder from position 0 (prefill). Without: a text-only or cached
    /// decode step; positions continue after <paramref name="cache"/>. Logits cover every fed position (B, L, V).
    /// </summary>
    public LlavaForwardOutput Forward(Tensor input_ids, Tensor? pixel_values, LlamaKvCache? cache = null, bool outputHiddenStates = false)
    {
        if (input_ids.dim() != 2)
            throw new InputRejectedException(InputRejection.Invalid, $"input_ids must be (batch, tokens); got ({string.Join(", ", input_ids.shape)}).");
        var (embeds, merged) = Embed(input_ids, pixel_values, cache);
        using var _ = embeds;
        var output = language_model.Model.Forward(merged?.InputsEmbeds ?? embeds, cache, merged?.PositionIds, outputHiddenStates);
        var logits = language_model.Logits(output.LastHiddenState);
        if (output.HiddenStates is null) output.LastHiddenState.Dispose();
        return new LlavaForwardOutput(logits, merged, output.HiddenStates);
    }

    /// <summary>
    /// The decoder's input for a prompt, without running the decoder: input_ids (B, T) embedded, with the projected
    /// image rows of <paramref name="pixel_values"/> merged in (vision tower and projector run here) → (B, L, C). Feed it
    /// to <see cref="PrefillLogits"/> whole or in consecutive chunks.
    /// </summary>
    public Tensor EmbedPrompt(Tensor input_ids, Tensor? pixel_values)
    {
        if (pixel_values is null) return EmbedPromptWithFeatures(input_ids, null);
        using var selected = SelectImageFeatures(pixel_values);
        return EmbedPromptWithFeatures(input_ids, selected);
    }

    /// <summary>
    /// <see cref="EmbedPrompt"/> from the images' selected vision features (I, N, Dv) (see <see cref="SelectFeatures"/>)
    /// instead of their pixels, for callers that run the vision tower a few layers at a time; null for a text-only prompt.
    /// </summary>
    public Tensor EmbedPromptWithFeatures(Tensor input_ids, Tensor? selected_features)
    {
        if (input_ids.dim() != 2)
            throw new InputRejectedException(InputRejection.Invalid, $"input_ids must be (batch, tokens); got ({string.Join(", ", input_ids.shape)}).");
        var (embeds, merged) = Embed(input_ids, selected_features, cache: null, imagesArePixels: false);
        if (merged is null) return embeds;
        embeds.Dispose();
        merged.PositionIds.Dispose();
        merged.AttentionMask.Dispose();
        return merged.InputsEmbeds;
    }

    /// <summary>
    /// Runs the decoder over <paramref name="inputs_embeds"/> (B, T, C), positions continuing after
    /// <paramref name="cache"/>, and returns the logits of the last position only (B, V) float32: a whole prefill, or one
    /// chunk of it (the chunks of an <see cref="EmbedPrompt"/> output fed in order give the same cache and last logits
    /// as one call, up to float rounding).
    /// </summary>
    public Tensor PrefillLogits(Tensor inputs_embeds, LlamaKvCache cache)
    {
        var output = language_model.Model.Forward(inputs_embeds, cache);
        using var hidden = output.LastHiddenState;
        using var last = hidden.narrow(1, hidden.shape[1] - 1, 1);                                    // (B, 1, C)
        using var logits = language_model.Logits(last);
        return logits.squeeze(1);
    }

    // Token embeddings (B, T, C) and, with images (pixels, or selected vision features when imagesArePixels is false),
    // the merged inputs (a prefill). Checks that images come only with a prefill and that an <image> token at a prefill
    // has its image.
    private (Tensor Embeds, LlavaMergedInputs? Merged) Embed(Tensor input_ids, Tensor? images, LlamaKvCache? cache, bool imagesArePixels = true)
    {
        var ids = input_ids.to(ScalarType.Int64);
        using var isImage = ids.eq(Config.ImageTokenIndex);
        var embeds = EmbedTokens(ids, isImage);                                                         // (B, T, C)
        try
        {
            if (images is not null)
            {
                if (cache is { Length: > 0 })
                    throw new InvalidOperationException("Images can only be given with the first (prefill) call of a cache.");
                using var features = imagesArePixels ? GetImageFeatures(images) : multi_modal_projector.call(images);   // (I, N, C)
                return (embeds, MergeInputIdsWithImageFeatures(ids, embeds, features));
            }
            if (cache is not { Length: > 0 } && isImage.any().item<bool>())
                throw new InputRejectedException(InputRejection.Invalid, "The prompt has an <image> token but no image was given.");
            return (embeds, null);
        }
        catch
        {
            embeds.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One decode step for N generations that each own a cache (lengths may differ): <paramref name="input_ids"/>
    /// (N, 1), row r continuing <c>caches[r]</c> → logits (N, 1, V) float32. For one generation the numbers equal
    /// <see cref="Forward"/>'s cached step.
    /// </summary>
    public Tensor Step(Tensor input_ids, IReadOnlyList<LlamaKvCache> caches)
    {
        if (caches.Any(c => c.Length == 0))
            throw new InvalidOperationException("A step continues a prefilled cache; run Forward with the prompt first.");
        var ids = input_ids.to(ScalarType.Int64);
        using var isImage = ids.eq(Config.ImageTokenIndex);
        using var embeds = EmbedTokens(ids, isImage);                                                   // (N, 1, C)
        var output = language_model.Model.ForwardStep(embeds, caches);
        using var last = output.LastHiddenState;
        return language_model.Logits(last);
    }

    // At a prefill the <image> rows of the embeddings are never used (the merge drops them). An image_token_index
    // beyond the text vocabulary (as newer transformers allow) is looked up as id 0 instead; inside the vocabulary
    // the real row is kept, because a cached decode step may feed back a generated <image> id, which 4.37 embeds
    // like any other token (its forward merges only when input_ids has more than one position).
    private Tensor EmbedTokens(Tensor ids, Tensor isImage)
    {
        using var lookup = Config.ImageTokenIndex < Config.TextConfig.VocabSize ? ids.alias() : ids.masked_fill(isImage, 0);
        return language_model.Model.EmbedTokens(lookup);
    }

    /// <summary>A KV cache for the decoder, for at most <paramref name="maxLength"/> positions (default: its context).</summary>
    public LlamaKvCache NewCache(long? maxLength = null) => language_model.NewCache(maxLength);
}
