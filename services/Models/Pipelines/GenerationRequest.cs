using MultiModal.Models.Imaging;
using MultiModal.Models.Schedulers;

namespace MultiModal.Models.Pipelines;

/// <summary>What an intermediate preview shows.</summary>
public enum PreviewKind
{
    /// <summary>No previews.</summary>
    None,
    /// <summary>
    /// RGB straight from the predicted clean latent x̂₀ through SD 1.x's fixed latent→RGB 4×3 matrix, at latent resolution
    /// (1/8 of the image): costs almost nothing.
    /// </summary>
    Approximate,
    /// <summary>The VAE decode of x̂₀: exact, but as expensive as the final decode.</summary>
    FullDecode,
    /// <summary>The raw current latents (float32) with their shape.</summary>
    Latents,
}

/// <summary>When and how to make previews.</summary>
/// <param name="EveryNSteps">A preview after every N-th denoising step and after the last one; 0 = none.</param>
/// <param name="Kind">What the preview holds.</param>
/// <param name="MaxSize">Longest side of preview images (downscaled when larger); 0 = no limit.</param>
public sealed record PreviewRequest(int EveryNSteps, PreviewKind Kind, int MaxSize)
{
    /// <summary>No previews.</summary>
    public static PreviewRequest None { get; } = new(0, PreviewKind.None, 0);

    /// <summary>True when this request asks for any preview at all.</summary>
    public bool Enabled => EveryNSteps > 0 && Kind != PreviewKind.None;
}

/// <summary>
/// One text-to-image or image-to-image generation, as diffusers' <c>StableDiffusionPipeline(...)</c> /
/// <c>StableDiffusionImg2ImgPipeline(...)</c> is called with
/// <c>generator=[torch.Generator("cpu").manual_seed(s) for s in Seeds]</c>.
/// </summary>
/// <param name="Prompt">The text to draw; longer than 77 tokens is truncated and reported.</param>
/// <param name="NegativePrompt">The unconditional text of classifier-free guidance ("" = diffusers' default).</param>
/// <param name="Width">Output width, a multiple of 8; 0 = the model's native width (txt2img) or the init image's (img2img).</param>
/// <param name="Height">Output height, a multiple of 8; 0 = native (txt2img) or from the init image (img2img).</param>
/// <param name="Steps">diffusers' <c>num_inference_steps</c>, in both modes (img2img runs the last ⌊Steps × Strength⌋ of them).</param>
/// <param name="GuidanceScale">Classifier-free guidance scale; ≤ 1 disables guidance (diffusers: guidance_scale &gt; 1).</param>
/// <param name="Seeds">One seed per image; the number of seeds is the number of images.</param>
/// <param name="Scheduler">The sampler; <see cref="SchedulerKind.Default"/> = the pipeline's own.</param>
/// <param name="InitImage">Set for img2img.</param>
/// <param name="Strength">img2img only: how much of the schedule to run, in (0, 1].</param>
/// <param name="Preview">Intermediate previews.</param>
/// <param name="ClipSkip">diffusers' <c>clip_skip</c>: 0 = last layer, 1 = the penultimate layer, …</param>
public sealed record GenerationRequest(
    string Prompt, string NegativePrompt, int Width, int Height,
    int Steps, double GuidanceScale, IReadOnlyList<ulong> Seeds,
    SchedulerKind Scheduler, DecodedImage? InitImage, double Strength, PreviewRequest Preview, int ClipSkip = 0)
{
    /// <summary>True for image-to-image.</summary>
    public bool IsImg2Img => InitImage is not null;

    /// <summary>diffusers' <c>do_classifier_free_guidance</c>.</summary>
    public bool UsesGuidance => GuidanceScale > 1.0;
}
