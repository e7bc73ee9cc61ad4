using System.Globalization;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Core.Errors;
using MultiModal.Models.Errors;
using MultiModal.Models.Imaging;
using MultiModal.Models.Pipelines;
using WirePreviewKind = MultiModal.Contracts.Diffusion.V1.PreviewKind;

namespace MultiModal.Diffusion.Mapping;

/// <summary>
/// Wire → job: validates every field (INVALID_ARGUMENT naming each bad field, all at once), applies the documented
/// defaults, decodes the init image and resolves the output size and seeds, all on the request thread, so the worker
/// only runs the pipeline.
/// </summary>
public static class GenerateImageMapper
{
    /// <summary>diffusers' num_inference_steps default.</summary>
    public const int DefaultSteps = 50;

    /// <summary>diffusers' guidance_scale default.</summary>
    public const double DefaultGuidanceScale = 7.5;

    /// <summary>Largest guidance_scale accepted.</summary>
    public const double MaxGuidanceScale = 30;

    /// <summary>diffusers' img2img strength default.</summary>
    public const double DefaultStrength = 0.8;

    /// <summary>Output sides are multiples of this (the VAE of SD 1.x/2.x downsamples by 8).</summary>
    public const int SizeMultiple = 8;

    /// <param name="request">The wire request.</param>
    /// <param name="nativeWidth">The model's native output width (used when width is 0 for txt2img).</param>
    /// <param name="nativeHeight">The model's native output height.</param>
    /// <param name="o">Limits.</param>
    /// <exception cref="InferenceException">INVALID_ARGUMENT with one field violation per bad field.</exception>
    /// <exception cref="InputRejectedException">The init image cannot be decoded or is too large (field init_image.data).</exception>
    public static DiffusionJob ToJob(GenerateImageRequest request, int nativeWidth, int nativeHeight, DiffusionOptions o)
    {
        var violations = new List<(string Field, string Description)>();
        void Reject(string field, string description) => violations.Add((field, description));

        if (string.IsNullOrWhiteSpace(request.Prompt))
            Reject("prompt", "a prompt is required");
        else if (request.Prompt.Length > o.MaxPromptChars)
            Reject("prompt", $"{request.Prompt.Length} characters; at most {o.MaxPromptChars}");
        if (request.NegativePrompt.Length > o.MaxPromptChars)
            Reject("negative_prompt", $"{request.NegativePrompt.Length} characters; at most {o.MaxPromptChars}");

        CheckSide("width", request.Width, o, Reject);
        CheckSide("height", request.Height, o, Reject);

        var steps = request.Steps == 0 ? DefaultSteps : (int)Math.Min(request.Steps, int.MaxValue);
        if (steps > o.MaxSteps)
            Reject("steps", $"{request.Steps} steps; must be in [1, {o.MaxSteps}]");

        var images = request.NumImages == 0 ? 1 : (int)Math.Min(request.NumImages, int.MaxValue);
        if (images > o.MaxImages)
            Reject("num_images", $"{request.NumImages} images; must be in [1, {o.MaxImages}]");

        var guidance = request.HasGuidanceScale ? FromWire(request.GuidanceScale) : DefaultGuidanceScale;
        if (!(guidance >= 0 && guidance <= MaxGuidanceScale))
            Reject("guidance_scale", $"{request.GuidanceScale.ToString(CultureInfo.InvariantCulture)}; must be in [0, {MaxGuidanceScale}]");

        var scheduler = SchedulerNames.ToKind(request.Scheduler);
        if (scheduler is null)
            Reject("scheduler", $"unknown scheduler {(int)request.Scheduler}");

        if (!Enum.IsDefined(request.OutputFormat))
            Reject("output_format", $"unknown output format {(int)request.OutputFormat}");

        var isImg2Img = request.InitImage is not null;
        var strength = 1.0;
        if (isImg2Img)
        {
            strength = request.Strength == 0 ? DefaultStrength : FromWire(request.Strength);
            if (!(strength > 0 && strength <= 1))
                Reject("strength", $"{request.Strength.ToString(CultureInfo.InvariantCulture)}; must be in (0, 1]");
            else if (steps <= o.MaxSteps && StepsToRun(steps, strength) < 1)
                Reject("strength", $"steps × strength = {steps} × {strength.ToString(CultureInfo.InvariantCulture)} leaves no step to run; raise either");
        }
        else if (request.Strength != 0)
        {
            Reject("strength", "strength applies only to image-to-image: set init_image too, or leave strength unset");
        }

        var preview = Preview(request.Preview, steps, o, Reject);

        if (violations.Count > 0)
            throw InferenceException.InvalidArguments(violations);

        var init = isImg2Img ? DecodeInitImage(request.InitImage!, o) : null;
        var (width, height) = ResolveSize(request, init, nativeWidth, nativeHeight, o);
        var seeds = Seeds(request, images);
        var generation = new GenerationRequest(
            request.Prompt, request.NegativePrompt, width, height, steps, guidance, seeds,
            scheduler!.Value, init, strength, preview);
        var format = request.OutputFormat == OutputFormat.Unspecified ? OutputFormat.Png : request.OutputFormat;
        return new DiffusionJob(generation, format, isImg2Img ? StepsToRun(steps, strength) : steps);
    }

    /// <summary>diffusers img2img: <c>init_timestep = min(int(num_inference_steps * strength), num_inference_steps)</c>.</summary>
    public static int StepsToRun(int steps, double strength) => Math.Min((int)(steps * strength), steps);

    /// <summary>
    /// A float32 from the wire as the decimal the client most likely wrote (0.7f → 0.7, not 0.699999988): diffusers
    /// computes in Python doubles, and ⌊steps × strength⌋ must come out the same (10 × 0.7 = 7, not 6).
    /// </summary>
    public static double FromWire(float value) =>
        float.IsFinite(value) ? double.Parse(value.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : double.NaN;

    private static void CheckSide(string field, uint value, DiffusionOptions o, Action<string, string> reject)
    {
        if (value == 0)
            return;
        if (value % SizeMultiple != 0)
            reject(field, $"{value} is not a multiple of {SizeMultiple}");
        else if (value * (ulong)SizeMultiple > (ulong)o.MaxPixels)
            reject(field, $"{value} px is too large: width × height must be at most {o.MaxPixels} pixels");
    }

    private static PreviewRequest Preview(PreviewOptions? preview, int steps, DiffusionOptions o, Action<string, string> reject)
    {
        if (preview is null)
            return PreviewRequest.None;
        var kind = preview.Kind switch
        {
            WirePreviewKind.Unspecified or WirePreviewKind.Approximate => PreviewKind.Approximate,
            WirePreviewKind.FullDecode => PreviewKind.FullDecode,
            WirePreviewKind.Latents => PreviewKind.Latents,
            _ => (PreviewKind?)null,
        };
        if (kind is null)
            reject("preview.kind", $"unknown preview kind {(int)preview.Kind}");
        if (preview.EveryNSteps > steps)
            reject("preview.every_n_steps", $"{preview.EveryNSteps}; must be at most steps ({steps})");
        if (preview.MaxSize > o.PreviewMaxSize)
            reject("preview.max_size", $"{preview.MaxSize}; must be at most {o.PreviewMaxSize}");
        if (preview.EveryNSteps == 0 || kind is null)
            return PreviewRequest.None;
        return new PreviewRequest((int)preview.EveryNSteps, kind.Value, preview.MaxSize == 0 ? o.PreviewMaxSize : (int)preview.MaxSize);
    }

    private static DecodedImage DecodeInitImage(Contracts.Common.V1.Image image, DiffusionOptions o)
    {
        if (image.Data.IsEmpty)
            throw InferenceException.InvalidArgument("init_image.data", "image bytes are required");
        try
        {
            return ImageDecoder.Decode(image.Data.Span, new ImageLimits { MaxBytes = o.MaxImageBytes, MaxPixels = o.MaxImagePixels });
        }
        catch (InputRejectedException e)
        {
            throw e.WithField("init_image.data");
        }
    }

    /// <summary>0 → the native size (txt2img) or the init image's, rounded down to a multiple of 8 (img2img), per side.</summary>
    private static (int Width, int Height) ResolveSize(
        GenerateImageRequest request, DecodedImage? init, int nativeWidth, int nativeHeight, DiffusionOptions o)
    {
        int Side(uint requested, int native, int? initSide) =>
            requested != 0 ? (int)requested : initSide is { } s ? s / SizeMultiple * SizeMultiple : native;
        var width = Side(request.Width, nativeWidth, init?.Width);
        var height = Side(request.Height, nativeHeight, init?.Height);

        var violations = new List<(string, string)>();
        if (width == 0 || height == 0)
            violations.Add(("init_image", $"the init image is {init!.Width}x{init.Height}; width and height must be at least {SizeMultiple}, or set width and height"));
        else if ((long)width * height > o.MaxPixels)
        {
            // Blame the fields that set the size: those given, and the init image for the sides taken from it.
            var description = $"{width}x{height} is {(long)width * height} pixels; at most {o.MaxPixels}";
            if (request.Width != 0)
                violations.Add(("width", description));
            if (request.Height != 0)
                violations.Add(("height", description));
            if (violations.Count < 2 && init is not null)
                violations.Add(("init_image", description));
            if (violations.Count == 0)
                violations.Add(("width", description + " (the model's native size is over this server's limit)"));
        }
        if (violations.Count > 0)
            throw InferenceException.InvalidArguments(violations);
        return (width, height);
    }

    /// <summary>seed → seed + i per image (wrapping); unset → a random 32-bit seed, reported in the result.</summary>
    private static IReadOnlyList<ulong> Seeds(GenerateImageRequest request, int images)
    {
        var first = request.HasSeed ? request.Seed : (ulong)Random.Shared.NextInt64(0, 1L << 32);
        return [.. Enumerable.Range(0, images).Select(i => unchecked(first + (ulong)i))];
    }
}
