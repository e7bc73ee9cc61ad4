using System.Globalization;

namespace MultiModal.Training.Diffusion;

/// <summary>The README written into a trained diffusion folder: data, recipe, what was measured, limits.</summary>
public static class DiffusionModelCard
{
    public static string Write(DiffusionTrainingOptions o, DiffusionTrainingReport r) => string.Create(CultureInfo.InvariantCulture, $"""
        # A small latent diffusion model of the shapes world

        A Stable Diffusion pipeline (diffusers layout: unet/, vae/, text_encoder/, tokenizer/, scheduler/) trained from
        scratch by `services/Training` (TorchSharp, CPU) with the classes the Diffusion service runs. It knows **only** the
        shapes world of issue 11 (one circle, square, triangle or star of 8 colors on a plain background).

        ## Model
        - AutoencoderKL: {o.ImageSize}×{o.ImageSize} RGB, widths {o.VaeWidth}/{2 * o.VaeWidth}/{2 * o.VaeWidth}, GroupNorm {o.VaeGroups} groups, 4 latent channels, scaling_factor {r.ScalingFactor:F4} (1 / std of its latents).
        - UNet2DConditionModel: widths {o.UnetWidth}/{2 * o.UnetWidth}, {o.UnetLayers} layer{(o.UnetLayers == 1 ? "" : "s")} per block, GroupNorm {o.UnetGroups} groups, one cross-attention level, epsilon prediction.
        - text_encoder: the text tower of the CLIP at `{o.ClipFolder}` (frozen), its BPE tokenizer.
        - scheduler: {(o.Sampler == Models.Schedulers.SchedulerKind.Pndm ? "SD 1.5's PNDM file" : "SD 1.5's noise schedule under DPMSolverMultistepScheduler as DPM++ 2M (`--sampler`)")}; trained with that noise schedule (scaled_linear 0.00085 → 0.012, 1000 steps).

        ## Recipe
        Scenes rendered on the fly (seed {o.Seed}), one caption paraphrase naming color and shape each, 10 % empty captions (for guidance).
        AdamW (β 0.9/0.98), lr {o.LearningRate}, {o.WarmupSteps} warmup steps then cosine, gradient clipping {o.GradientClip}.
        - Autoencoder: {(o.ContinueFrom is { } from ? $"that of `{from}`, kept as it was" : $"{o.VaeSteps} steps of {o.VaeBatchSize} images, MSE + {o.KlWeight} × KL; loss {r.VaeFirstLoss:F4} (first 10) → {r.VaeLastLoss:F4} (last 50), {r.VaeTime.TotalMinutes:F1} min")}.
        - UNet: {(o.ContinueFrom is { } start ? $"the UNet of `{start}` trained further, " : "")}{o.UnetSteps} steps of {o.BatchSize} images, noise-prediction MSE{(o.SnrGamma is { } g ? $" weighted by Min-SNR-γ (γ = {g})" : "")}{(o.EmaDecay is { } d ? $"; the folder holds the weights' exponential moving average (decay {d})" : "")}; loss {r.UnetFirstLoss:F4} → {r.UnetLastLoss:F4}, {r.UnetTime.TotalMinutes:F1} min.

        ## Limits
        Knows only shapes; {o.ImageSize}-px images. How often its images show the prompt's color and shape: `eval diffusion` (README of builtin-models).

        """);
}
