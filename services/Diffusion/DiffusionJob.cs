using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Core.Inference.Jobs;
using MultiModal.Models.Pipelines;

namespace MultiModal.Diffusion;

/// <summary>A validated generation: what the pipeline runs, plus how the service encodes its images.</summary>
/// <param name="Request">The pipeline request, with the output size resolved (never 0).</param>
/// <param name="OutputFormat">PNG (with parameters), JPEG or WebP.</param>
/// <param name="StepsToRun">Denoising steps the job runs (img2img: ⌊steps × strength⌋), for wait estimates.</param>
public sealed record DiffusionJob(GenerationRequest Request, OutputFormat OutputFormat, int StepsToRun) : IJobWork
{
    public int Items => Request.Seeds.Count;

    /// <summary>Megapixel-steps, plus one step's worth for the text encoder and VAE.</summary>
    public double Cost => (StepsToRun + 1.0) * Items * Request.Width * Request.Height / 1e6;
}
