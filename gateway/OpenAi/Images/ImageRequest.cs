using System.Globalization;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Gateway.OpenAi.Errors;

namespace MultiModal.Gateway.OpenAi.Images;

/// <summary>
/// The fields <c>/v1/images/generations</c> (JSON) and <c>/v1/images/edits</c> (multipart) share, read through one
/// accessor so both bodies are checked by the same rules: n, size "WxH" (or "auto"), response_format b64_json only,
/// output_format, stream with partial_images 0-3, and our extras negative_prompt, seed, steps, guidance_scale,
/// scheduler (and strength for edits), progress (extra stream events).
/// </summary>
public sealed class ImageRequest
{
    private static readonly Dictionary<string, Scheduler> Schedulers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ddim"] = Scheduler.Ddim, ["pndm"] = Scheduler.Pndm, ["euler"] = Scheduler.Euler, ["euler_ancestral"] = Scheduler.EulerAncestral,
        ["dpmpp_2m"] = Scheduler.Dpmpp2M, ["dpmpp_2m_karras"] = Scheduler.Dpmpp2MKarras, ["lms"] = Scheduler.Lms, ["ddpm"] = Scheduler.Ddpm,
    };

    public required string? Model { get; init; }
    public required GenerateImageRequest Grpc { get; init; }
    public required string OutputFormat { get; init; }
    public required bool Stream { get; init; }
    public required int PartialImages { get; init; }
    /// <summary>Our extension <c>progress</c> (with <c>stream</c>): also send <c>x.image_generation.queued</c> and
    /// <c>x.image_generation.progress</c> events (queue position, step, ETA), which OpenAI's stream has no event for.</summary>
    public bool ProgressEvents { get; init; }

    /// <summary>A field as text (JSON strings and numbers alike, multipart values), or null when absent.</summary>
    public delegate string? Field(string name);

    public static ImageRequest Parse(Field field, bool edit)
    {
        var prompt = field("prompt");
        if (string.IsNullOrEmpty(prompt))
            throw OpenAiException.Invalid("prompt", "'prompt' is required.", "missing_required_parameter");
        var format = field("response_format") ?? "b64_json";
        if (format == "url")
            throw OpenAiException.Invalid("response_format", "response_format 'url' is not supported: the gateway stores no images. Use 'b64_json'.", "unsupported_value");
        if (format != "b64_json")
            throw OpenAiException.Invalid("response_format", $"'response_format' must be 'b64_json'; got '{format}'.");
        var outputFormat = (field("output_format") ?? "png").ToLowerInvariant();
        var request = new GenerateImageRequest
        {
            Prompt = prompt,
            NegativePrompt = field("negative_prompt") ?? "",
            NumImages = (uint)(Int(field, "n", 1, 10) ?? 1),
            Steps = (uint)(Int(field, "steps", 1, 1000) ?? 0),
            OutputFormat = outputFormat switch
            {
                "png" => Contracts.Diffusion.V1.OutputFormat.Png,
                "jpeg" or "jpg" => Contracts.Diffusion.V1.OutputFormat.Jpeg,
                "webp" => Contracts.Diffusion.V1.OutputFormat.Webp,
                _ => throw OpenAiException.Invalid("output_format", $"'output_format' must be png, jpeg or webp; got '{outputFormat}'."),
            },
        };
        if (Size(field("size")) is { } size)
            (request.Width, request.Height) = size;
        if (Int(field, "seed", 0, long.MaxValue) is { } seed)
            request.Seed = (ulong)seed;
        if (Number(field, "guidance_scale") is { } guidance)
            request.GuidanceScale = (float)guidance;
        if (field("scheduler") is { } scheduler)
            request.Scheduler = Schedulers.TryGetValue(scheduler, out var s) ? s
                : throw OpenAiException.Invalid("scheduler", $"Unknown scheduler '{scheduler}'; one of {string.Join(", ", Schedulers.Keys)}.");
        if (Number(field, "strength") is { } strength)
            request.Strength = edit ? (float)strength : throw OpenAiException.Invalid("strength", "'strength' applies to /v1/images/edits only.");

        var stream = field("stream") is { } st && (st.Equals("true", StringComparison.OrdinalIgnoreCase)
            || (!st.Equals("false", StringComparison.OrdinalIgnoreCase) ? throw OpenAiException.Invalid("stream", "'stream' must be a boolean.") : false));
        var partials = (int)(Int(field, "partial_images", 0, 3) ?? 0);
        if (partials > 0 && !stream)
            throw OpenAiException.Invalid("partial_images", "'partial_images' needs 'stream': true.");
        var progress = field("progress") is { } pr && (pr.Equals("true", StringComparison.OrdinalIgnoreCase)
            || (!pr.Equals("false", StringComparison.OrdinalIgnoreCase) ? throw OpenAiException.Invalid("progress", "'progress' must be a boolean.") : false));
        if (progress && !stream)
            throw OpenAiException.Invalid("progress", "'progress' needs 'stream': true.");
        if (stream)
            request.Preview = new PreviewOptions { EveryNSteps = partials > 0 ? 1u : 0u, Kind = PreviewKind.Approximate };
        return new ImageRequest { Model = field("model"), Grpc = request, OutputFormat = outputFormat == "jpg" ? "jpeg" : outputFormat, Stream = stream, PartialImages = partials,
            ProgressEvents = progress };
    }

    /// <summary>"WxH" → pixels; "auto" or absent → the model's native size (0, 0 on the wire).</summary>
    public static (uint Width, uint Height)? Size(string? size)
    {
        if (size is null || size == "auto")
            return null;
        var parts = size.Split('x');
        if (parts.Length == 2 && uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var w)
            && uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var h) && w > 0 && h > 0)
            return (w, h);
        throw OpenAiException.Invalid("size", $"'size' must be \"WIDTHxHEIGHT\" (e.g. \"512x512\") or \"auto\"; got '{size}'.");
    }

    /// <summary>A diffusion field violation → the request field.</summary>
    public static string Param(string field) => field switch
    {
        "width" or "height" => "size",
        "num_images" => "n",
        "init_image" => "image",
        _ when field.StartsWith("preview", StringComparison.Ordinal) => "partial_images",
        _ => field,
    };

    private static long? Int(Field field, string name, long min, long max)
    {
        if (field(name) is not { } text)
            return null;
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            throw OpenAiException.Invalid(name, $"'{name}' must be an integer; got '{text}'.", "invalid_type");
        if (value < min || value > max)
            throw OpenAiException.Invalid(name, $"'{name}' must be in [{min}, {max}]; got {value}.");
        return value;
    }

    private static double? Number(Field field, string name)
    {
        if (field(name) is not { } text)
            return null;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw OpenAiException.Invalid(name, $"'{name}' must be a number; got '{text}'.", "invalid_type");
    }
}
