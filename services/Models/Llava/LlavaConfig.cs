using System.Text.Json;
using System.Text.Json.Serialization;
using MultiModal.Models.Clip;

namespace MultiModal.Models.Llava;

/// <summary>
/// Mirror of transformers 4.37's <c>LlamaConfig</c> (<c>text_config</c> of a llava-hf folder). Defaults equal the class
/// defaults (Llama-2-7B shapes, rms_norm_eps 1e-6), because llava-hf config.json files are sparse and only list what
/// differs. <c>num_key_value_heads</c> falls back to <c>num_attention_heads</c>.
/// </summary>
public sealed record LlamaConfig
{
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "llama";
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 32000;
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 4096;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 11008;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 32;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 32;
    [JsonPropertyName("num_key_value_heads")] public int? NumKeyValueHeadsRaw { get; init; }
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "silu";
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 2048;
    [JsonPropertyName("rms_norm_eps")] public double RmsNormEps { get; init; } = 1e-6;
    [JsonPropertyName("rope_theta")] public double RopeTheta { get; init; } = 10000.0;
    [JsonPropertyName("rope_scaling")] public JsonElement? RopeScaling { get; init; }
    [JsonPropertyName("attention_bias")] public bool AttentionBias { get; init; }
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }
    [JsonPropertyName("bos_token_id")] public int? BosTokenId { get; init; } = 1;
    [JsonPropertyName("eos_token_id")] public int? EosTokenId { get; init; } = 2;
    [JsonPropertyName("pad_token_id")] public int? PadTokenId { get; init; }

    [JsonIgnore] public int NumKeyValueHeads => NumKeyValueHeadsRaw ?? NumAttentionHeads;
    [JsonIgnore] public int HeadDim => HiddenSize / NumAttentionHeads;

    public void Validate()
    {
        if (ModelType != "llama")
            throw new NotSupportedException($"text_config.model_type '{ModelType}' is not supported; only 'llama' decoders are.");
        if (NumAttentionHeads <= 0 || HiddenSize % NumAttentionHeads != 0)
            throw new InvalidDataException($"text_config.hidden_size ({HiddenSize}) must be divisible by num_attention_heads ({NumAttentionHeads}).");
        if (NumKeyValueHeads <= 0 || NumAttentionHeads % NumKeyValueHeads != 0)
            throw new InvalidDataException(
                $"text_config.num_attention_heads ({NumAttentionHeads}) must be a multiple of num_key_value_heads ({NumKeyValueHeads}).");
        if (HeadDim % 2 != 0)
            throw new InvalidDataException($"text_config head_dim ({HeadDim}) must be even for rotary embeddings.");
        if (HiddenAct != "silu")
            throw new NotSupportedException($"text_config.hidden_act '{HiddenAct}' is not supported; Llama uses 'silu'.");
        if (RopeScaling is { ValueKind: not JsonValueKind.Null })
            throw new NotSupportedException("text_config.rope_scaling is not supported (linear/dynamic RoPE scaling is not ported).");
    }
}

/// <summary>
/// Mirror of transformers 4.37's <c>LlavaConfig</c>: a CLIP vision tower, a 2-layer projector and a Llama decoder.
/// An absent <c>vision_config</c> means LlavaConfig's own default (CLIP ViT-L/14-336), not CLIPVisionConfig's
/// (ViT-B/32); a present one is filled with CLIPVisionConfig's class defaults. Whether the LM head is tied is decided by
/// <c>text_config.tie_word_embeddings</c>; the top-level flag is not read by the decoder.
/// </summary>
public sealed record LlavaConfig
{
    /// <summary>The vision tower LlavaConfig builds when config.json has no vision_config.</summary>
    public static ClipVisionConfig DefaultVisionConfig { get; } = new()
    {
        HiddenSize = 1024, IntermediateSize = 4096, PatchSize = 14, ImageSize = 336,
        NumHiddenLayers = 24, NumAttentionHeads = 16, ProjectionDim = 768,
    };

    [JsonPropertyName("vision_config")] public ClipVisionConfig VisionConfig { get; init; } = DefaultVisionConfig;
    [JsonPropertyName("text_config")] public LlamaConfig TextConfig { get; init; } = new();
    [JsonPropertyName("ignore_index")] public int IgnoreIndex { get; init; } = -100;
    [JsonPropertyName("image_token_index")] public int ImageTokenIndex { get; init; } = 32000;
    [JsonPropertyName("projector_hidden_act")] public string ProjectorHiddenAct { get; init; } = "gelu";
    [JsonPropertyName("vision_feature_select_strategy")] public string VisionFeatureSelectStrategy { get; init; } = "default";
    [JsonPropertyName("vision_feature_layer")] public int VisionFeatureLayer { get; init; } = -2;
    [JsonPropertyName("pad_token_id")] public int? PadTokenId { get; init; }

    /// <summary>Image rows one image contributes to the merged sequence (patches, plus CLS with strategy "full").</summary>
    [JsonIgnore]
    public int ImageSequenceLength => VisionConfig.NumPatches + (VisionFeatureSelectStrategy == "full" ? 1 : 0);

    /// <summary>Reads and validates <c>config.json</c> of a llava-hf folder.</summary>
    public static LlavaConfig Load(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses and validates config JSON (<paramref name="source"/> names it in errors).</summary>
    public static LlavaConfig Parse(string json, string source = "config.json")
    {
        var config = JsonSerializer.Deserialize<LlavaConfig>(json)
            ?? throw new InvalidDataException($"Model config '{source}' is empty.");
        config.Validate();
        return config;
    }

    public void Validate()
    {
        VisionConfig.Validate();
        TextConfig.Validate();
        if (VisionFeatureSelectStrategy is not ("default" or "full"))
            throw new InvalidDataException(
                $"vision_feature_select_strategy '{VisionFeatureSelectStrategy}' is invalid; expected 'default' or 'full'.");
        var states = VisionConfig.NumHiddenLayers + 1;   // pre_layrnorm output + one per layer
        if (VisionFeatureLayer >= states || VisionFeatureLayer < -states)
            throw new InvalidDataException($"vision_feature_layer {VisionFeatureLayer} is out of range for {states} vision hidden states.");
        if (ProjectorHiddenAct is not ("gelu" or "gelu_new" or "gelu_pytorch_tanh" or "quick_gelu" or "silu" or "relu"))
            throw new NotSupportedException($"projector_hidden_act '{ProjectorHiddenAct}' is not supported.");
        if (ImageTokenIndex < 0)
            throw new InvalidDataException($"image_token_index must be non-negative, got {ImageTokenIndex}.");
    }
}
