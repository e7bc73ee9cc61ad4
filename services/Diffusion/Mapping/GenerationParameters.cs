using System.Globalization;
using System.Text;
using MultiModal.Models.Pipelines;
using MultiModal.Models.Schedulers;

namespace MultiModal.Diffusion.Mapping;

/// <summary>
/// The "parameters" text that AUTOMATIC1111's web UI writes into its PNGs (and that image browsers and UIs read back):
/// <code>
/// &lt;prompt&gt;
/// Negative prompt: &lt;negative prompt&gt;
/// Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 1234, Size: 512x512, Model: &lt;name&gt;
/// </code>
/// The negative prompt line is left out when empty (as A1111 does); img2img adds "Denoising strength: 0.75".
/// </summary>
public static class GenerationParameters
{
    /// <summary>The PNG tEXt keyword.</summary>
    public const string Keyword = "parameters";

    /// <param name="request">What was asked (steps are the requested num_inference_steps, as A1111 reports them).</param>
    /// <param name="seed">This image's seed.</param>
    /// <param name="scheduler">The scheduler that ran.</param>
    /// <param name="modelName">The model's name.</param>
    public static string Format(GenerationRequest request, ulong seed, SchedulerKind scheduler, string modelName)
    {
        var text = new StringBuilder(request.Prompt);
        if (request.NegativePrompt.Length > 0)
            text.Append("\nNegative prompt: ").Append(request.NegativePrompt);
        text.Append(CultureInfo.InvariantCulture,
            $"\nSteps: {request.Steps}, Sampler: {SchedulerNames.SamplerName(scheduler)}, CFG scale: {Number(request.GuidanceScale)}, " +
            $"Seed: {seed}, Size: {request.Width}x{request.Height}, Model: {modelName}");
        if (request.IsImg2Img)
            text.Append(CultureInfo.InvariantCulture, $", Denoising strength: {Number(request.Strength)}");
        return text.ToString();
    }

    // 7.5 → "7.5", 7 → "7" (Python's repr of what the client sent).
    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
