using System.Text.Json;
using System.Text.Json.Serialization;

namespace MultiModal.Models.Unet;

/// <summary>
/// Mirror of diffusers 0.25.1 <c>UNet2DConditionModel</c>'s config (<c>unet/config.json</c>). Defaults equal the
/// constructor's, so absent keys behave the same; unknown keys are ignored. Runtime choices (device, dtype) live elsewhere.
/// Options SD 1.x/2.x never set (class/addition embeddings, dual or only-cross attention, ...) are rejected by
/// <see cref="Validate"/> rather than silently ignored.
/// </summary>
public sealed record UNet2DConditionConfig
{
    [JsonPropertyName("sample_size")] public int? SampleSize { get; init; }
    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 4;
    [JsonPropertyName("out_channels")] public int OutChannels { get; init; } = 4;
    [JsonPropertyName("center_input_sample")] public bool CenterInputSample { get; init; }
    [JsonPropertyName("flip_sin_to_cos")] public bool FlipSinToCos { get; init; } = true;
    [JsonPropertyName("freq_shift")] public double FreqShift { get; init; }
    [JsonPropertyName("down_block_types")] public string[] DownBlockTypes { get; init; } =
        ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"];
    [JsonPropertyName("mid_block_type")] public string? MidBlockType { get; init; } = "UNetMidBlock2DCrossAttn";
    [JsonPropertyName("up_block_types")] public string[] UpBlockTypes { get; init; } =
        ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"];
    [JsonPropertyName("only_cross_attention")] public PerBlock<bool> OnlyCrossAttention { get; init; } = new(false);
    [JsonPropertyName("block_out_channels")] public int[] BlockOutChannels { get; init; } = [320, 640, 1280, 1280];
    [JsonPropertyName("layers_per_block")] public PerBlock<int> LayersPerBlock { get; init; } = new(2);
    [JsonPropertyName("downsample_padding")] public int DownsamplePadding { get; init; } = 1;
    [JsonPropertyName("mid_block_scale_factor")] public double MidBlockScaleFactor { get; init; } = 1.0;
    [JsonPropertyName("dropout")] public double Dropout { get; init; }
    [JsonPropertyName("act_fn")] public string ActFn { get; init; } = "silu";
    [JsonPropertyName("norm_num_groups")] public int? NormNumGroups { get; init; } = 32;
    [JsonPropertyName("norm_eps")] public double NormEps { get; init; } = 1e-5;
    [JsonPropertyName("cross_attention_dim")] public PerBlock<int> CrossAttentionDim { get; init; } = new(1280);
    [JsonPropertyName("transformer_layers_per_block")] public PerBlock<int> TransformerLayersPerBlock { get; init; } = new(1);
    [JsonPropertyName("reverse_transformer_layers_per_block")] public JsonElement? ReverseTransformerLayersPerBlock { get; init; }
    [JsonPropertyName("encoder_hid_dim")] public int? EncoderHidDim { get; init; }
    [JsonPropertyName("encoder_hid_dim_type")] public string? EncoderHidDimType { get; init; }
    // SD 1.x/2.x quirk: diffusers uses attention_head_dim as the NUMBER of heads when num_attention_heads is absent
    // (see NumHeadsPerBlock); the head width is then channels / heads.
    [JsonPropertyName("attention_head_dim")] public PerBlock<int> AttentionHeadDim { get; init; } = new(8);
    [JsonPropertyName("num_attention_heads")] public PerBlock<int>? NumAttentionHeads { get; init; }
    [JsonPropertyName("dual_cross_attention")] public bool DualCrossAttention { get; init; }
    [JsonPropertyName("use_linear_projection")] public bool UseLinearProjection { get; init; }
    [JsonPropertyName("class_embed_type")] public string? ClassEmbedType { get; init; }
    [JsonPropertyName("addition_embed_type")] public string? AdditionEmbedType { get; init; }
    [JsonPropertyName("addition_time_embed_dim")] public int? AdditionTimeEmbedDim { get; init; }
    [JsonPropertyName("num_class_embeds")] public int? NumClassEmbeds { get; init; }
    [JsonPropertyName("upcast_attention")] public bool UpcastAttention { get; init; }
    [JsonPropertyName("resnet_time_scale_shift")] public string ResnetTimeScaleShift { get; init; } = "default";
    [JsonPropertyName("resnet_skip_time_act")] public bool ResnetSkipTimeAct { get; init; }
    [JsonPropertyName("resnet_out_scale_factor")] public double ResnetOutScaleFactor { get; init; } = 1.0;
    [JsonPropertyName("time_embedding_type")] public string TimeEmbeddingType { get; init; } = "positional";
    [JsonPropertyName("time_embedding_dim")] public int? TimeEmbeddingDim { get; init; }
    [JsonPropertyName("time_embedding_act_fn")] public string? TimeEmbeddingActFn { get; init; }
    [JsonPropertyName("timestep_post_act")] public string? TimestepPostAct { get; init; }
    [JsonPropertyName("time_cond_proj_dim")] public int? TimeCondProjDim { get; init; }
    [JsonPropertyName("conv_in_kernel")] public int ConvInKernel { get; init; } = 3;
    [JsonPropertyName("conv_out_kernel")] public int ConvOutKernel { get; init; } = 3;
    [JsonPropertyName("projection_class_embeddings_input_dim")] public int? ProjectionClassEmbeddingsInputDim { get; init; }
    [JsonPropertyName("attention_type")] public string AttentionType { get; init; } = "default";
    [JsonPropertyName("class_embeddings_concat")] public bool ClassEmbeddingsConcat { get; init; }
    [JsonPropertyName("mid_block_only_cross_attention")] public bool? MidBlockOnlyCrossAttention { get; init; }
    [JsonPropertyName("cross_attention_norm")] public string? CrossAttentionNorm { get; init; }

    /// <summary>Width of the time embedding the blocks receive (time_embedding_dim or 4 × block_out_channels[0]).</summary>
    [JsonIgnore] public int TimeEmbedDim => TimeEmbeddingDim ?? BlockOutChannels[0] * 4;

    /// <summary>Attention heads of each down block (the SD 1.x quirk: attention_head_dim when num_attention_heads is absent).</summary>
    [JsonIgnore] public int[] NumHeadsPerBlock => (NumAttentionHeads ?? AttentionHeadDim).For(DownBlockTypes.Length, "attention_head_dim");

    /// <summary>How many times the UNet halves the latent size (2^this must divide the latent height and width).</summary>
    [JsonIgnore] public int NumUpsamplers => UpBlockTypes.Length - 1;

    /// <summary>Reads and validates <c>unet/config.json</c>.</summary>
    public static UNet2DConditionConfig Load(string path)
    {
        var config = JsonSerializer.Deserialize<UNet2DConditionConfig>(File.ReadAllText(path))
            ?? throw new InvalidDataException($"Model config '{path}' is empty.");
        config.Validate();
        return config;
    }

    public void Validate()
    {
        var n = DownBlockTypes.Length;
        if (n == 0 || UpBlockTypes.Length != n || BlockOutChannels.Length != n)
            throw new InvalidDataException(
                $"UNet config: down_block_types ({n}), up_block_types ({UpBlockTypes.Length}) and block_out_channels " +
                $"({BlockOutChannels.Length}) must have the same, non-zero length.");
        foreach (var type in DownBlockTypes)
            if (type is not ("CrossAttnDownBlock2D" or "DownBlock2D"))
                throw new NotSupportedException($"UNet down block type '{type}' is not supported; expected CrossAttnDownBlock2D or DownBlock2D.");
        foreach (var type in UpBlockTypes)
            if (type is not ("CrossAttnUpBlock2D" or "UpBlock2D"))
                throw new NotSupportedException($"UNet up block type '{type}' is not supported; expected CrossAttnUpBlock2D or UpBlock2D.");
        if (MidBlockType is not (null or "UNetMidBlock2DCrossAttn"))
            throw new NotSupportedException($"UNet mid_block_type '{MidBlockType}' is not supported; expected UNetMidBlock2DCrossAttn.");
        if (NumAttentionHeads is not null)
            // diffusers 0.25.1 raises here too ("not possible to define the number of attention heads via num_attention_heads").
            throw new NotSupportedException("UNet config sets num_attention_heads, which diffusers 0.25 rejects; heads come from attention_head_dim.");
        if (NormNumGroups is null)
            throw new NotSupportedException("UNet config: norm_num_groups null (no output GroupNorm) is not supported.");
        if (!Layers.DiffusersActivation.IsKnown(ActFn))
            throw new NotSupportedException($"UNet act_fn '{ActFn}' is not supported.");

        var unsupported = new List<string>();
        if (OnlyCrossAttention.For(n, "only_cross_attention").Any(b => b)) unsupported.Add("only_cross_attention");
        if (MidBlockOnlyCrossAttention == true) unsupported.Add("mid_block_only_cross_attention");
        if (DualCrossAttention) unsupported.Add("dual_cross_attention");
        if (ClassEmbedType is not null || NumClassEmbeds is not null || ClassEmbeddingsConcat) unsupported.Add("class embeddings");
        if (AdditionEmbedType is not null) unsupported.Add("addition_embed_type (SDXL-style added conditions)");
        if (EncoderHidDim is not null || EncoderHidDimType is not null) unsupported.Add("encoder_hid_dim");
        if (TimeCondProjDim is not null) unsupported.Add("time_cond_proj_dim");
        if (TimeEmbeddingType != "positional") unsupported.Add($"time_embedding_type '{TimeEmbeddingType}'");
        if (TimeEmbeddingActFn is not null) unsupported.Add("time_embedding_act_fn");
        if (TimestepPostAct is not null) unsupported.Add("timestep_post_act");
        if (ResnetTimeScaleShift != "default") unsupported.Add($"resnet_time_scale_shift '{ResnetTimeScaleShift}'");
        if (ResnetSkipTimeAct) unsupported.Add("resnet_skip_time_act");
        if (AttentionType != "default") unsupported.Add($"attention_type '{AttentionType}'");
        if (CrossAttentionNorm is not null) unsupported.Add("cross_attention_norm");
        if (ReverseTransformerLayersPerBlock is { ValueKind: not JsonValueKind.Null }) unsupported.Add("reverse_transformer_layers_per_block");
        if (unsupported.Count > 0)
            throw new NotSupportedException($"UNet config uses options this port does not implement: {string.Join(", ", unsupported)}.");

        var heads = NumHeadsPerBlock;
        LayersPerBlock.For(n, "layers_per_block");
        CrossAttentionDim.For(n, "cross_attention_dim");
        TransformerLayersPerBlock.For(n, "transformer_layers_per_block");
        for (var i = 0; i < n; i++)
        {
            if (BlockOutChannels[i] % NormNumGroups.Value != 0)
                throw new InvalidDataException($"UNet block_out_channels[{i}] ({BlockOutChannels[i]}) must be divisible by norm_num_groups ({NormNumGroups}).");
            if (heads[i] <= 0 || BlockOutChannels[i] % heads[i] != 0)
                throw new InvalidDataException($"UNet block_out_channels[{i}] ({BlockOutChannels[i]}) must be divisible by its number of heads ({heads[i]}).");
        }
    }
}

/// <summary>
/// A config value diffusers accepts either once for all blocks (<c>8</c>) or per block (<c>[5, 10, 20, 20]</c>).
/// </summary>
[JsonConverter(typeof(PerBlockJsonConverterFactory))]
public sealed record PerBlock<T> where T : struct
{
    private readonly T[] _values;

    public PerBlock(T single) => (_values, IsSingle) = ([single], true);
    public PerBlock(T[] values) => (_values, IsSingle) = (values, false);

    /// <summary>True when the config gave one value for all blocks.</summary>
    public bool IsSingle { get; }

    public IReadOnlyList<T> Values => _values;

    /// <summary>One value per block: the single value repeated, or the list, which must have one entry per block.</summary>
    public T[] For(int blocks, string name)
    {
        if (IsSingle)
            return Enumerable.Repeat(_values[0], blocks).ToArray();
        if (_values.Length != blocks)
            throw new InvalidDataException($"UNet config: {name} has {_values.Length} entries but there are {blocks} down blocks.");
        return _values;
    }

    public bool Equals(PerBlock<T>? other) => other is not null && IsSingle == other.IsSingle && _values.SequenceEqual(other._values);
    public override int GetHashCode() => HashCode.Combine(IsSingle, _values.Length);
    public override string ToString() => IsSingle ? $"{_values[0]}" : $"[{string.Join(", ", _values)}]";
}

internal sealed class PerBlockJsonConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(PerBlock<>);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(PerBlockJsonConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;
}

internal sealed class PerBlockJsonConverter<T> : JsonConverter<PerBlock<T>> where T : struct
{
    public override PerBlock<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            var values = new List<T>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType == JsonTokenType.StartArray)
                    throw new NotSupportedException("Nested per-layer lists (e.g. SDXL's transformer_layers_per_block) are not supported.");
                values.Add(JsonSerializer.Deserialize<T>(ref reader, options));
            }
            return new PerBlock<T>(values.ToArray());
        }
        return new PerBlock<T>(JsonSerializer.Deserialize<T>(ref reader, options));
    }

    public override void Write(Utf8JsonWriter writer, PerBlock<T> value, JsonSerializerOptions options)
    {
        if (value.IsSingle)
            JsonSerializer.Serialize(writer, value.Values[0], options);
        else
            JsonSerializer.Serialize(writer, value.Values.ToArray(), options);
    }
}
