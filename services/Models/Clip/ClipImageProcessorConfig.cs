using System.Text.Json.Nodes;
using MultiModal.Models.Imaging;

namespace MultiModal.Models.Clip;

/// <summary>
/// <c>preprocessor_config.json</c> of a CLIPImageProcessor (transformers 4.36), with its defaults for missing keys.
/// <c>size</c> is either <c>{"shortest_edge": n}</c> (the usual; a legacy bare int means the same) or
/// <c>{"height": h, "width": w}</c>; <c>crop_size</c> is <c>{"height", "width"}</c> or a bare int (square).
/// </summary>
public sealed record ClipImageProcessorConfig
{
    // Narrowed from double like Python's float -> np.float32 (a float literal could round differently).
    /// <summary>OPENAI_CLIP_MEAN in transformers.</summary>
    public static readonly IReadOnlyList<float> OpenAiClipMean = [(float)0.48145466, (float)0.4578275, (float)0.40821073];

    /// <summary>OPENAI_CLIP_STD in transformers.</summary>
    public static readonly IReadOnlyList<float> OpenAiClipStd = [(float)0.26862954, (float)0.26130258, (float)0.27577711];

    public bool DoResize { get; init; } = true;

    /// <summary><c>size.shortest_edge</c>: resize so the shorter side has this length; null when an exact size is set.</summary>
    public int? ShortestEdge { get; init; } = 224;

    /// <summary><c>size.height</c>/<c>size.width</c>: resize to exactly this size (used when <see cref="ShortestEdge"/> is null).</summary>
    public int? SizeHeight { get; init; }

    /// <inheritdoc cref="SizeHeight"/>
    public int? SizeWidth { get; init; }

    /// <summary><c>resample</c>, a PIL filter number (3 = bicubic).</summary>
    public PilResample Resample { get; init; } = PilResample.Bicubic;

    public bool DoCenterCrop { get; init; } = true;

    public int CropHeight { get; init; } = 224;

    public int CropWidth { get; init; } = 224;

    public bool DoRescale { get; init; } = true;

    /// <summary>Kept in double: transformers multiplies in float64 and only then casts to float32.</summary>
    public double RescaleFactor { get; init; } = 1 / 255.0;

    public bool DoNormalize { get; init; } = true;

    /// <summary>Per-channel mean, as float32 (transformers casts it to the image's float32 dtype).</summary>
    public IReadOnlyList<float> ImageMean { get; init; } = OpenAiClipMean;

    /// <inheritdoc cref="ImageMean"/>
    public IReadOnlyList<float> ImageStd { get; init; } = OpenAiClipStd;

    /// <summary>Always effectively true here: <see cref="DecodedImage"/> is already RGB (PIL convert("RGB")).</summary>
    public bool DoConvertRgb { get; init; } = true;

    /// <summary>Reads <c>preprocessor_config.json</c>.</summary>
    public static ClipImageProcessorConfig FromFile(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses the JSON text of a preprocessor config; <paramref name="source"/> names it in errors.</summary>
    public static ClipImageProcessorConfig Parse(string json, string source = "preprocessor_config.json")
    {
        var root = JsonNode.Parse(json) as JsonObject
            ?? throw new InvalidDataException($"{source}: expected a JSON object");
        var defaults = new ClipImageProcessorConfig();
        var config = defaults with
        {
            DoResize = Bool(root, "do_resize") ?? defaults.DoResize,
            DoCenterCrop = Bool(root, "do_center_crop") ?? defaults.DoCenterCrop,
            DoRescale = Bool(root, "do_rescale") ?? defaults.DoRescale,
            RescaleFactor = root["rescale_factor"]?.GetValue<double>() ?? defaults.RescaleFactor,
            DoNormalize = Bool(root, "do_normalize") ?? defaults.DoNormalize,
            DoConvertRgb = Bool(root, "do_convert_rgb") ?? defaults.DoConvertRgb,
            ImageMean = PerChannel(root["image_mean"], source, "image_mean") ?? defaults.ImageMean,
            ImageStd = PerChannel(root["image_std"], source, "image_std") ?? defaults.ImageStd,
            Resample = root["resample"] is { } r ? ParseResample(r.GetValue<int>(), source) : defaults.Resample,
        };

        // get_size_dict(size, default_to_square=False): int n -> shortest_edge n; [h, w] -> exact size.
        switch (root["size"])
        {
            case null:
                break;
            case JsonValue v:
                config = config with { ShortestEdge = v.GetValue<int>(), SizeHeight = null, SizeWidth = null };
                break;
            case JsonArray { Count: 2 } a:
                config = config with { ShortestEdge = null, SizeHeight = a[0]!.GetValue<int>(), SizeWidth = a[1]!.GetValue<int>() };
                break;
            case JsonObject o when o["shortest_edge"] is { } edge:
                config = config with { ShortestEdge = edge.GetValue<int>(), SizeHeight = null, SizeWidth = null };
                break;
            case JsonObject o when o["height"] is { } h && o["width"] is { } w:
                config = config with { ShortestEdge = null, SizeHeight = h.GetValue<int>(), SizeWidth = w.GetValue<int>() };
                break;
            default:
                throw new InvalidDataException(
                    $"{source}: 'size' must be an int, [height, width], {{\"shortest_edge\"}} or {{\"height\", \"width\"}}");
        }

        // get_size_dict(crop_size, default_to_square=True): int n -> n x n.
        switch (root["crop_size"])
        {
            case null:
                break;
            case JsonValue v:
                config = config with { CropHeight = v.GetValue<int>(), CropWidth = v.GetValue<int>() };
                break;
            case JsonArray { Count: 2 } a:
                config = config with { CropHeight = a[0]!.GetValue<int>(), CropWidth = a[1]!.GetValue<int>() };
                break;
            case JsonObject o when o["height"] is { } h && o["width"] is { } w:
                config = config with { CropHeight = h.GetValue<int>(), CropWidth = w.GetValue<int>() };
                break;
            default:
                throw new InvalidDataException($"{source}: 'crop_size' must be an int, [height, width] or {{\"height\", \"width\"}}");
        }

        config.Validate(source);
        return config;
    }

    private void Validate(string source)
    {
        if (ShortestEdge is <= 0 || SizeHeight is <= 0 || SizeWidth is <= 0 || CropHeight <= 0 || CropWidth <= 0)
            throw new InvalidDataException($"{source}: sizes must be positive");
        if (ShortestEdge is null && (SizeHeight is null || SizeWidth is null))
            throw new InvalidDataException($"{source}: 'size' needs shortest_edge or height and width");
        if (ImageMean.Count != 3 || ImageStd.Count != 3)
            throw new InvalidDataException($"{source}: image_mean and image_std need 3 values (RGB)");
        if (ImageStd.Any(s => s == 0))
            throw new InvalidDataException($"{source}: image_std must not contain 0");
    }

    private static bool? Bool(JsonObject root, string key) => root[key]?.GetValue<bool>();

    // normalize() accepts one float for all channels or one per channel. Parsed as double then narrowed, as Python
    // does (JSON -> float64 -> np.float32): parsing straight to float could round differently.
    private static IReadOnlyList<float>? PerChannel(JsonNode? node, string source, string key) => node switch
    {
        null => null,
        JsonValue v => [(float)v.GetValue<double>(), (float)v.GetValue<double>(), (float)v.GetValue<double>()],
        JsonArray a => a.Select(x => (float)x!.GetValue<double>()).ToArray(),
        _ => throw new InvalidDataException($"{source}: '{key}' must be a number or a list of numbers"),
    };

    private static PilResample ParseResample(int value, string source) =>
        Enum.IsDefined((PilResample)value)
            ? (PilResample)value
            : throw new InvalidDataException(
                $"{source}: resample {value} is not supported (1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX, 5 HAMMING)");
}
