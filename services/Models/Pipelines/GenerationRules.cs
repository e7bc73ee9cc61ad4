using MultiModal.Models.Errors;
using MultiModal.Models.Schedulers;

namespace MultiModal.Models.Pipelines;

/// <summary>
/// The request checks and size rules of a <see cref="StableDiffusionPipeline"/>, separate from any weights so they can
/// run before a request is queued. Every refusal is an <see cref="InputRejectedException"/> naming the request field.
/// </summary>
/// <param name="NativeWidth">unet sample_size × VAE scale factor.</param>
/// <param name="NativeHeight">unet sample_size × VAE scale factor.</param>
/// <param name="VaeScaleFactor">Image pixels per latent pixel (8 for every SD checkpoint).</param>
/// <param name="TextEncoderLayers">Hidden layers of the text encoder (bounds clip skip).</param>
/// <param name="LatentChannels">VAE latent channels (approximate previews need 4).</param>
public sealed record GenerationRules(int NativeWidth, int NativeHeight, int VaeScaleFactor, int TextEncoderLayers, int LatentChannels)
{
    /// <summary>Output sides are multiples of this: diffusers' check_inputs demands multiples of 8 (and of the VAE factor).</summary>
    public int SizeMultiple => Math.Max(8, VaeScaleFactor);

    /// <summary>Largest accepted output side.</summary>
    public const int MaxSide = 4096;

    /// <summary>
    /// The output size. txt2img: Width/Height, or the native size where 0. img2img: Width/Height where given (the init
    /// image is resized to them), else the init image's side rounded down to a multiple of <see cref="SizeMultiple"/>
    /// (diffusers' VaeImageProcessor.get_default_height_width, whose unit is the VAE factor: 8 for SD).
    /// </summary>
    public (int Width, int Height) ResolveSize(GenerationRequest r)
    {
        ArgumentNullException.ThrowIfNull(r);
        CheckSide(r.Width, "width");
        CheckSide(r.Height, "height");
        if (r.InitImage is not { } init)
            return (r.Width == 0 ? NativeWidth : r.Width, r.Height == 0 ? NativeHeight : r.Height);
        var width = r.Width != 0 ? r.Width : init.Width - init.Width % SizeMultiple;
        var height = r.Height != 0 ? r.Height : init.Height - init.Height % SizeMultiple;
        if (width == 0 || height == 0)
            throw new InputRejectedException(InputRejection.Invalid,
                $"init_image is {init.Width}x{init.Height}; each side must be at least {SizeMultiple} pixels (or give width and height).", "init_image");
        if (width > MaxSide || height > MaxSide)
            throw new InputRejectedException(InputRejection.Invalid,
                $"init_image is {init.Width}x{init.Height}; sides over {MaxSide} need width and height to resize it.", "init_image");
        return (width, height);
    }

    /// <summary>Checks every field that does not need a scheduler (those are checked when the schedule is built).</summary>
    public void Validate(GenerationRequest r)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (r.Prompt is null) Reject("prompt", "prompt is required.");
        if (r.NegativePrompt is null) Reject("negative_prompt", "negative_prompt must not be null (use \"\").");
        if (r.Steps < 1) Reject("steps", $"steps must be at least 1, got {r.Steps}.");
        if (!double.IsFinite(r.GuidanceScale) || r.GuidanceScale < 0)
            Reject("guidance_scale", $"guidance_scale must be a finite number ≥ 0, got {r.GuidanceScale}.");
        if (r.Seeds is null || r.Seeds.Count == 0) Reject("seeds", "at least one seed (one per image) is required.");
        if (!Enum.IsDefined(r.Scheduler)) Reject("scheduler", $"unknown scheduler {r.Scheduler}.");
        if (r.ClipSkip < 0 || r.ClipSkip >= TextEncoderLayers)
            Reject("clip_skip", $"clip_skip must be in [0, {TextEncoderLayers - 1}] for this {TextEncoderLayers}-layer text encoder, got {r.ClipSkip}.");
        if (r.InitImage is not null && !(r.Strength > 0 && r.Strength <= 1))
            Reject("strength", $"strength must be in (0, 1] for img2img, got {r.Strength}.");
        var preview = r.Preview ?? PreviewRequest.None;
        if (preview.EveryNSteps < 0) Reject("preview.every_n_steps", $"preview.every_n_steps must be ≥ 0, got {preview.EveryNSteps}.");
        if (preview.MaxSize < 0) Reject("preview.max_size", $"preview.max_size must be ≥ 0, got {preview.MaxSize}.");
        if (!Enum.IsDefined(preview.Kind)) Reject("preview.kind", $"unknown preview kind {preview.Kind}.");
        if (preview.Enabled && preview.Kind == PreviewKind.Approximate && LatentChannels != LatentPreview.Sd1RgbFactors.GetLength(0))
            Reject("preview.kind", $"approximate previews need a 4-channel latent space; this VAE has {LatentChannels}.");
        ResolveSize(r);
    }

    /// <summary>
    /// Builds the request's scheduler with its timesteps set, and the timesteps to run: all of them (txt2img) or
    /// diffusers' img2img tail (<see cref="Img2ImgTimesteps"/>). Rejects step counts the scheduler cannot make and
    /// img2img requests whose ⌊steps × strength⌋ is 0.
    /// </summary>
    public static GenerationSchedule Schedule(GenerationRequest r, SchedulerConfig pipelineConfig)
    {
        if (r.Steps > pipelineConfig.NumTrainTimesteps)
            Reject("steps", $"steps must be at most the scheduler's {pipelineConfig.NumTrainTimesteps} training timesteps, got {r.Steps}.");
        var scheduler = SchedulerFactory.Create(r.Scheduler, pipelineConfig);
        scheduler.SetTimesteps(r.Steps);
        // "leading" spacing adds steps_offset after spacing T/N apart: with N = T (SD 1.x: 1000 steps, offset 1) the
        // last timestep is T itself, past ᾱ (diffusers fails there with an IndexError). The σ schedulers interpolate
        // (np.interp clamps), so only the ᾱ-indexing ones are refused.
        if (scheduler is AlphaSchedulerBase && scheduler.Timesteps.Max() > pipelineConfig.NumTrainTimesteps - 1)
            Reject("steps", $"{r.Steps} steps put a timestep at {scheduler.Timesteps.Max()}, past this scheduler's last training timestep " +
                $"{pipelineConfig.NumTrainTimesteps - 1} (timestep_spacing {scheduler.Config.TimestepSpacing}, steps_offset {scheduler.Config.StepsOffset}); use fewer steps.");
        if (r.InitImage is null)
            return new GenerationSchedule(scheduler, scheduler.Timesteps, r.Steps);
        var tail = Img2ImgTimesteps.Select(scheduler, r.Steps, r.Strength);
        // PNDM's list repeats one timestep, so its tail can be non-empty with no step kept; diffusers would run it with
        // a progress total of 0. Such a request asks for no denoising at all: refuse it like an empty tail.
        if (tail.NumInferenceSteps < 1)
            Reject("strength", $"strength {r.Strength} with {r.Steps} steps keeps no denoising step (⌊steps × strength⌋ = 0); raise strength or steps.");
        return new GenerationSchedule(scheduler, tail.Timesteps, tail.NumInferenceSteps);
    }

    private void CheckSide(int value, string field)
    {
        if (value < 0 || value % SizeMultiple != 0 || value > MaxSide)
            Reject(field, $"{field} must be 0 (default) or a positive multiple of {SizeMultiple} up to {MaxSide}, got {value}.");
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Reject(string field, string message) =>
        throw new InputRejectedException(InputRejection.Invalid, message, field);
}

/// <summary>A request's scheduler and the part of its schedule the generation runs.</summary>
/// <param name="Scheduler">The scheduler, timesteps set.</param>
/// <param name="Timesteps">The timesteps to evaluate the UNet at, in order (one UNet call each).</param>
/// <param name="Steps">
/// diffusers' <c>num_inference_steps</c> for the run (txt2img: the request's steps; img2img: ⌊steps × strength⌋): the
/// progress total. PNDM evaluates once more than this (PLMS's first step re-evaluates at a repeated timestep), as
/// diffusers' <c>num_warmup_steps = len(timesteps) − num_inference_steps · order</c>.
/// </param>
public sealed record GenerationSchedule(IScheduler Scheduler, IReadOnlyList<double> Timesteps, int Steps)
{
    /// <summary>UNet calls before the first reported step (1 for PNDM, else 0).</summary>
    public int WarmupEvaluations => Timesteps.Count - Steps * Scheduler.Order;
}
