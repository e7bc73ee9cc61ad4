using System.Globalization;
using MultiModal.Models.Clip;

namespace MultiModal.Training.Clip;

/// <summary>README.md of the trained folder: data, recipe, metrics, limits.</summary>
public static class ClipModelCard
{
    public static string Write(ClipTrainingOptions o, ClipConfig c, ClipTrainingReport r)
    {
        var inv = CultureInfo.InvariantCulture;
        string Pct(double v) => (100 * v).ToString("F1", inv) + " %";
        var other = r.OtherRenderer is { } x
            ? $"| {x.Count} images drawn by another program (Python PIL, `services/ShapesWorld/Python/render_world.py`: own RNG, geometry, 4× supersampled antialiasing) | {Pct(x.ColorAccuracy)} | {Pct(x.ShapeAccuracy)} |\n"
            : "";
        return $"""
            # clip-shapes: a small CLIP that knows the shapes world

            A CLIP (transformers `CLIPModel` layout) trained from scratch by `services/Training` (TorchSharp, CPU) with the
            same model classes the CLIP service runs. It knows **only** the shapes world of issue 11: one shape (circle, square,
            triangle, star) of one of 8 colors (red, green, blue, yellow, orange, purple, white, black), small or large, on a
            plain background of another color or gray. Anything else (photos, cats, text) gets arbitrary answers.

            ## Model
            - Vision: ViT, {c.VisionConfig.ImageSize}×{c.VisionConfig.ImageSize} px input, patch {c.VisionConfig.PatchSize}, hidden {c.VisionConfig.HiddenSize}, {c.VisionConfig.NumHiddenLayers} layers, {c.VisionConfig.NumAttentionHeads} heads.
            - Text: hidden {c.TextConfig.HiddenSize}, {c.TextConfig.NumHiddenLayers} layers, {c.TextConfig.NumAttentionHeads} heads, the openai/CLIP BPE tokenizer (49,408 tokens, context 77).
            - Projection {c.ProjectionDim}; float32; folder size {(r.FolderBytes / 1048576.0).ToString("F1", inv)} MiB.
            - `preprocessor_config.json`: CLIPImageProcessor at {c.VisionConfig.ImageSize} px (larger images are resized, bicubic, and center-cropped).

            ## Data
            Images rendered on the fly by `services/ShapesWorld` (SkiaSharp, antialiased, σ = 4/255 noise, ±12 color jitter):
            training scenes are indices 0 … {(long)o.Steps * o.BatchSize - 1} of the set with seed {o.Seed}, each with three texts: one of 15
            caption paraphrases ("a large red circle on a blue background", "a picture of a red circle", "a small star", ...), one
            naming only its shape ("a circle", "a photo of a circle", "a picture of a circle") and one naming only its color ("a red
            shape", "a photo of a red shape", "something red"). A text's positives are all images of the batch it describes
            (multi-positive targets).

            ## Recipe
            Symmetric contrastive loss, AdamW (β 0.9/0.98, ε 1e-6, weight decay {o.WeightDecay.ToString(inv)} on matrices), lr {o.LearningRate.ToString(inv)},
            {o.WarmupSteps} warmup steps then cosine to lr/20, gradient clipping at {o.GradientClip.ToString(inv)}, batch {o.BatchSize}, {o.Steps} steps,
            seed {o.Seed}{(o.InitFrom is null ? "" : $", starting from the weights of a previous run ({Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(o.InitFrom)))})")}; logit scale learned (clamped ≤ 100). Loss {r.FirstLoss.ToString("F3", inv)} (first 10 steps) → {r.LastLoss.ToString("F3", inv)} (last 50): `loss.png`.
            Training time: {r.TrainingTime.TotalMinutes.ToString("F1", inv)} min on {Environment.ProcessorCount} CPU cores (a shared machine: other jobs ran alongside).

            Reproduce: `dotnet services/Training/bin/Release/net10.0/MultiModal.Training.dll train clip --out <dir> --steps {o.Steps} --batch {o.BatchSize} --patch {o.PatchSize} --seed {o.Seed}{(o.VisionWidth != 96 ? $" --vision-width {o.VisionWidth}" : "")}{(o.TextWidth != 64 ? $" --text-width {o.TextWidth}" : "")}{(o.ShapeTerm > 0 ? $" --shape-term {o.ShapeTerm.ToString(inv)}" : "")}`
            (`make train-clip`).

            ## Metrics (zero-shot, top-1; prompts "a photo of a <color> shape" and "a photo of a <shape>")
            | images | color (8-way) | shape (4-way) |
            |---|---|---|
            | {r.HeldOut.Count} held-out rendered images (seed {o.EvalSeed}, never trained on) | {Pct(r.HeldOut.ColorAccuracy)} | {Pct(r.HeldOut.ShapeAccuracy)} |
            | the same images, prompts no training caption uses ("an image of a <color> shape", "an image of a <shape>") | {Pct(r.HeldOutUnseenPrompts.ColorAccuracy)} | {Pct(r.HeldOutUnseenPrompts.ShapeAccuracy)} |
            {other}
            ## Limits
            Knows only shapes: one shape per image, the 8 colors and 4 shapes above. Sizes and background colors were in the
            captions but are not evaluated. 64-px input: fine detail is lost.

            License of the tokenizer files: openai/CLIP (MIT). Weights: trained here, same license as the repository.

            """;
    }
}
