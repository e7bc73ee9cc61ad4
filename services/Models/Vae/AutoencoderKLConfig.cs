using System.Text.Json;
using System.Text.Json.Serialization;
using MultiModal.Models.Layers;

namespace MultiModal.Models.Vae;

/// <summary>
/// Mirror of diffusers 0.25.1 <c>AutoencoderKL</c>'s config (<c>vae/config.json</c>). Defaults equal the constructor's;
/// unknown keys are ignored. <see cref="ScalingFactor"/> is applied by the pipeline (latents · s after encoding,
/// latents / s before decoding), not by the model.
/// </summary>
public sealed record AutoencoderKLConfig
{
    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 3;
    [JsonPropertyName("out_channels")] public int OutChannels { get; init; } = 3;
    [JsonPropertyName("down_block_types")] public string[] DownBlockTypes { get; init; } = ["DownEncoderBlock2D"];
    [JsonPropertyName("up_block_types")] public string[] UpBlockTypes { get; init; } = ["UpDecoderBlock2D"];
    [JsonPropertyName("block_out_channels")] public int[] BlockOutChannels { get; init; } = [64];
    [JsonPropertyName("layers_per_block")] public int LayersPerBlock { get; init; } = 1;
    [JsonPropertyName("act_fn")] public string ActFn { get; init; } = "silu";
    [JsonPropertyName("latent_channels")] public int LatentChannels { get; init; } = 4;
    [JsonPropertyName("norm_num_groups")] public int NormNumGroups { get; init; } = 32;
    [JsonPropertyName("sample_size")] public int SampleSize { get; init; } = 32;
    [JsonPropertyName("scaling_factor")] public double ScalingFactor { get; init; } = 0.18215;
    /// <summary>diffusers decodes in float32 when the model is float16 and this is true (SD's VAE overflows in fp16).</summary>
    [JsonPropertyName("force_upcast")] public bool ForceUpcast { get; init; } = true;

    /// <summary>Image pixels per latent pixel along each side: 2^(number of blocks − 1), 8 for SD.</summary>
    [JsonIgnore] public int ScaleFactor => 1 << (BlockOutChannels.Length - 1);

    /// <summary>Reads and validates <c>vae/config.json</c>.</summary>
    public static AutoencoderKLConfig Load(string path)
    {
        var config = JsonSerializer.Deserialize<AutoencoderKLConfig>(File.ReadAllText(path))
            ?? throw new InvalidDataException($"Model config '{path}' is empty.");
        config.Validate();
        return config;
    }

    public void Validate()
    {
        var n = BlockOutChannels.Length;
        if (n == 0 || DownBlockTypes.Length != n || UpBlockTypes.Length != n)
            throw new InvalidDataException(
                $"VAE config: down_block_types ({DownBlockTypes.Length}), up_block_types ({UpBlockTypes.Length}) and " +
                $"block_out_channels ({n}) must have the same, non-zero length.");
        foreach (var type in DownBlockTypes)
            if (type != "DownEncoderBlock2D")
                throw new NotSupportedException($"VAE down block type '{type}' is not supported; expected DownEncoderBlock2D.");
        foreach (var type in UpBlockTypes)
            if (type != "UpDecoderBlock2D")
                throw new NotSupportedException($"VAE up block type '{type}' is not supported; expected UpDecoderBlock2D.");
        if (!DiffusersActivation.IsKnown(ActFn))
            throw new NotSupportedException($"VAE act_fn '{ActFn}' is not supported.");
        foreach (var c in BlockOutChannels)
            if (c <= 0 || c % NormNumGroups != 0)
                throw new InvalidDataException($"VAE block_out_channels ({c}) must be a positive multiple of norm_num_groups ({NormNumGroups}).");
        if (LayersPerBlock <= 0 || LatentChannels <= 0 || ScalingFactor <= 0)
            throw new InvalidDataException("VAE layers_per_block, latent_channels and scaling_factor must be positive.");
    }
}
