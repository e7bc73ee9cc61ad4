using System.Globalization;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Core.Errors;
using MultiModal.Models.Errors;
using MultiModal.Models.Imaging;
using MultiModal.Models.Pipelines;
using PreviewKind = MultiModal.Models.Pipelines.PreviewKind;
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

    /// <param name="request">The wire request.</param>
    /// <param name="rules">The pipeline's size rules: native size, size multiple (8 for SD).</param>
    /// <param name="o">Limits.</param>
    /// <exception cref="InferenceException">INVALID_ARGUMENT with one field violation per bad field.</exception>
    /// <exception cref="InputRejectedException">
    /// The init image cannot be decoded or is too large (field init_image.data), or the pipeline's rules refuse the request.
    /// </exception>
    public static DiffusionJob ToJob(GenerateImageRequest request, GenerationRules rules, DiffusionOptions o)
    {
        var violations = new List<(string Field, string Description)>();
        void Reject(string field, string description) => violations.Add((field, description));

        if (string.IsNullOrWhiteSpace(request.Prompt))
            Reject("prompt", "a prompt is required");
        else if (request.Prompt.Length > o.MaxPromptChars)
            Reject("prompt", $"{request.Prompt.Length} characters; at most {o.MaxPromptChars}");
        if (request.NegativePrompt.Length > o.MaxPromptChars)
            Reject("negative_prompt", $"{request.NegativePrompt.Length} characters; at most {o.MaxPromptChars}");

        CheckSide("width", request.Width, rules.SizeMultiple, o, Reject);
        CheckSide("height", request.Height, rules.SizeMultiple, o, Reject);

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
        var generation = new GenerationRequest(
            request.Prompt, request.NegativePrompt, (int)request.Width, (int)request.Height, steps, guidance, Seeds(request, images),
            scheduler!.Value, init, strength, preview);
        var (width, height) = ResolveSize(generation, rules, o);
        generation = generation with { Width = width, Height = height };
        // The pipeline's own checks (pure: no tensors on the request thread); those that need its scheduler run on the worker.
        rules.Validate(generation);
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

    private static void CheckSide(string field, uint value, int multiple, DiffusionOptions o, Action<string, string> reject)
    {
        if (value == 0)
            return;
        if (value % multiple != 0)
            reject(field, $"{value} is not a multiple of {multiple}");
        else if (value > GenerationRules.MaxSide || value * (ulong)multiple > (ulong)o.MaxPixels)
            reject(field, $"{value} px is too large: at most {GenerationRules.MaxSide} per side and {o.MaxPixels} pixels in all");
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

    /// <summary>
    /// 0 → the native size (txt2img) or the init image's, rounded down to the size multiple (img2img), per side; then
    /// the server's pixel limit.
    /// </summary>
    private static (int Width, int Height) ResolveSize(GenerationRequest generation, GenerationRules rules, DiffusionOptions o)
    {
        var (width, height) = rules.ResolveSize(generation);
        if ((long)width * height <= o.MaxPixels)
            return (width, height);

        // Blame the fields that set the size: those given, and the init image for the sides taken from it.
        var description = $"{width}x{height} is {(long)width * height} pixels; at most {o.MaxPixels}";
        var violations = new List<(string, string)>();
        if (generation.Width != 0)
            violations.Add(("width", description));
        if (generation.Height != 0)
            violations.Add(("height", description));
        if (violations.Count < 2 && generation.InitImage is not null)
            violations.Add(("init_image", description));
        if (violations.Count == 0)
            violations.Add(("width", description + " (the model's native size is over this server's limit)"));
        throw InferenceException.InvalidArguments(violations);
    }

    /// <summary>seed → seed + i per image (wrapping); unset → a random 32-bit seed, reported in the result.</summary>
    private static IReadOnlyList<ulong> Seeds(GenerateImageRequest request, int images)
    {
        var first = request.HasSeed ? request.Seed : (ulong)Random.Shared.NextInt64(0, 1L << 32);
        return [.. Enumerable.Range(0, images).Select(i => unchecked(first + (ulong)i))];
    }
}
