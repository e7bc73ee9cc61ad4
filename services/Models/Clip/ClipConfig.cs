using System.Text.Json;
using System.Text.Json.Serialization;

namespace MultiModal.Models.Clip;

/// <summary>
/// Mirror of transformers' <c>CLIPTextConfig</c>. Defaults equal transformers 4.36's, so keys that
/// <c>save_pretrained</c> leaves out behave the same; unknown keys are ignored.
/// </summary>
public sealed record ClipTextConfig
{
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 49408;
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 512;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 2048;
    [JsonPropertyName("projection_dim")] public int ProjectionDim { get; init; } = 512;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 12;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 8;
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 77;
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "quick_gelu";
    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; init; } = 1e-5;
    [JsonPropertyName("bos_token_id")] public int BosTokenId { get; init; } = 49406;
    // transformers 4.36 default. Published openai checkpoints carry the legacy 2, for which transformers pools at
    // argmax(input_ids) instead: see ClipTextTransformer.PoolingPositions.
    [JsonPropertyName("eos_token_id")] public int EosTokenId { get; init; } = 49407;

    [JsonIgnore] public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>Reads the flat <c>config.json</c> of a CLIPTextModel folder (e.g. Stable Diffusion's text_encoder/).</summary>
    public static ClipTextConfig Load(string path)
    {
        var config = JsonSerializer.Deserialize<ClipTextConfig>(File.ReadAllText(path))
            ?? throw new InvalidDataException($"Model config '{path}' is empty.");
        config.Validate();
        return config;
    }

    public void Validate()
    {
        ClipConfigChecks.HeadsDivide("text_config", HiddenSize, NumAttentionHeads);
        ClipConfigChecks.KnownActivation("text_config", HiddenAct);
    }
}

/// <summary>Mirror of transformers' <c>CLIPVisionConfig</c> (defaults = ViT-B/32).</summary>
public sealed record ClipVisionConfig
{
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 768;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 3072;
    [JsonPropertyName("projection_dim")] public int ProjectionDim { get; init; } = 512;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 12;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 12;
    [JsonPropertyName("num_channels")] public int NumChannels { get; init; } = 3;
    [JsonPropertyName("image_size")] public int ImageSize { get; init; } = 224;
    [JsonPropertyName("patch_size")] public int PatchSize { get; init; } = 32;
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "quick_gelu";
    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; init; } = 1e-5;

    [JsonIgnore] public int HeadDim => HiddenSize / NumAttentionHeads;
    [JsonIgnore] public int NumPatches => (ImageSize / PatchSize) * (ImageSize / PatchSize);
    [JsonIgnore] public int NumPositions => NumPatches + 1;

    public void Validate()
    {
        ClipConfigChecks.HeadsDivide("vision_config", HiddenSize, NumAttentionHeads);
        ClipConfigChecks.KnownActivation("vision_config", HiddenAct);
        if (PatchSize <= 0 || ImageSize % PatchSize != 0)
            throw new InvalidDataException($"vision_config.image_size ({ImageSize}) must be a multiple of patch_size ({PatchSize}).");
    }
}

/// <summary>Mirror of transformers' <c>CLIPConfig</c>: both towers, the projection size and the initial logit scale.</summary>
public sealed record ClipConfig
{
    [JsonPropertyName("text_config")] public ClipTextConfig TextConfig { get; init; } = new();
    [JsonPropertyName("vision_config")] public ClipVisionConfig VisionConfig { get; init; } = new();
    [JsonPropertyName("projection_dim")] public int ProjectionDim { get; init; } = 512;
    [JsonPropertyName("logit_scale_init_value")] public double LogitScaleInitValue { get; init; } = 2.6592;

    /// <summary>Reads <c>config.json</c> of a Hugging Face CLIP folder.</summary>
    public static ClipConfig Load(string path)
    {
        var config = JsonSerializer.Deserialize<ClipConfig>(File.ReadAllText(path))
            ?? throw new InvalidDataException($"Model config '{path}' is empty.");
        config.Validate();
        return config;
    }

    public void Validate()
    {
        TextConfig.Validate();
        VisionConfig.Validate();
        if (ProjectionDim <= 0)
            throw new InvalidDataException($"projection_dim must be positive, got {ProjectionDim}.");
    }
}

internal static class ClipConfigChecks
{
    public static void HeadsDivide(string section, int hidden, int heads)
    {
        if (heads <= 0 || hidden % heads != 0)
            throw new InvalidDataException(
                $"{section}.hidden_size ({hidden}) must be divisible by num_attention_heads ({heads}).");
    }

    public static void KnownActivation(string section, string act)
    {
        if (act is not ("quick_gelu" or "gelu" or "gelu_new" or "gelu_pytorch_tanh"))
            throw new NotSupportedException(
                $"{section}.hidden_act '{act}' is not supported; expected quick_gelu, gelu, gelu_new or gelu_pytorch_tanh.");
    }
}
