using MultiModal.Models.Imaging;
using MultiModal.Models.Schedulers;

namespace MultiModal.Models.Pipelines;

/// <summary>An intermediate preview of every image of the batch.</summary>
/// <param name="Images">One preview image per seed (empty for <see cref="PreviewKind.Latents"/>).</param>
/// <param name="Latents">The current latents, float32 row-major (only for <see cref="PreviewKind.Latents"/>).</param>
/// <param name="LatentShape">Shape of <paramref name="Latents"/>: (images, channels, h, w).</param>
public sealed record PreviewFrame(IReadOnlyList<DecodedImage> Images, float[]? Latents, long[]? LatentShape);

/// <summary>Progress after one denoising step.</summary>
/// <param name="Step">1-based: the step that has just completed.</param>
/// <param name="TotalSteps">
/// How many denoising steps this generation runs: diffusers' progress total (<see cref="GenerationSchedule.Steps"/>).
/// </param>
/// <param name="Preview">A preview when one was due after this step.</param>
public sealed record DenoisingStep(int Step, int TotalSteps, PreviewFrame? Preview);

/// <summary>The result of a generation.</summary>
/// <param name="Images">One image per seed, in seed order.</param>
/// <param name="PromptTruncated">The prompt or negative prompt was longer than the text encoder's 77 tokens and was cut.</param>
/// <param name="StepsRun">
/// Denoising steps run: Steps (txt2img) or ⌊Steps × Strength⌋ (img2img). PNDM calls the UNet once more (its first
/// step evaluates twice).
/// </param>
/// <param name="SchedulerUsed">The sampler that ran (the pipeline's own for <see cref="SchedulerKind.Default"/>).</param>
/// <param name="EncodePrompt">Tokenizing and text encoding.</param>
/// <param name="Denoise">Preparing latents (img2img: the VAE encode) and the denoising loop, previews included.</param>
/// <param name="Decode">The final VAE decode and conversion to 8-bit RGB.</param>
public sealed record GenerationOutput(IReadOnlyList<DecodedImage> Images, bool PromptTruncated, int StepsRun,
    SchedulerKind SchedulerUsed, TimeSpan EncodePrompt, TimeSpan Denoise, TimeSpan Decode);
