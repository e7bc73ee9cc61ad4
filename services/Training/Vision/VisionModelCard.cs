using System.Globalization;
using MultiModal.Models.Llava;

namespace MultiModal.Training.Vision;

/// <summary>README.md of the trained folder: data, recipe, metrics, limits.</summary>
public static class VisionModelCard
{
    public static string Write(VisionTrainingOptions o, LlavaConfig c, VisionTrainingReport r)
    {
        var inv = CultureInfo.InvariantCulture;
        string Pct(double v) => (100 * v).ToString("F1", inv) + " %";
        var t = c.TextConfig;
        var v = c.VisionConfig;
        return $"""
            # llava-shapes: a small LLaVA that knows the shapes world

            A LLaVA (transformers `LlavaForConditionalGeneration`, llava-hf layout) trained by `services/Training` (TorchSharp,
            CPU) with the same model classes the Vision service runs. It knows **only** the shapes world of issue 11 (one
            circle, square, triangle or star of 8 colors, small or large, on a plain background) and its five questions.

            ## Model
            - Vision tower: the CLIP of `{o.ClipFolder}` ({v.ImageSize}×{v.ImageSize} px, patch {v.PatchSize}, hidden {v.HiddenSize}, {v.NumHiddenLayers} layers): {c.ImageSequenceLength} image rows (vision_feature_select_strategy "{c.VisionFeatureSelectStrategy}"), features of layer {c.VisionFeatureLayer}, {(o.FreezeTower ? "frozen" : $"fine-tuned at {o.TowerLearningRateScale:G3}× the learning rate of the rest")}.
            - Projector: {v.HiddenSize} → {t.HiddenSize} → {t.HiddenSize} ({c.ProjectorHiddenAct}).
            - Decoder: Llama, hidden {t.HiddenSize}, {t.NumHiddenLayers} layers, {t.NumAttentionHeads} heads (GQA {t.NumAttentionHeads}:{t.NumKeyValueHeads}), MLP {t.IntermediateSize}, context {t.MaxPositionEmbeddings}, the repository's SentencePiece tokenizer (1536 pieces + `<image>` + `<pad>`).
            - {r.Parameters.ToString("N0", inv)} parameters ({r.Trainable.ToString("N0", inv)} trained), float32, folder {(r.FolderBytes / 1048576.0).ToString("F1", inv)} MiB.

            ## Data
            Scenes rendered on the fly by `services/ShapesWorld` (training: indices 0 … {(long)o.Steps * o.BatchSize - 1} of seed {o.Seed}), each with one
            of its five questions drawn at random: "What color is the shape?" → "red", "What shape is it?" → "a circle",
            "Describe this image." → "a large red circle on a blue background", the background color and the size. Prompt:
            the LLaVA-1.5 template the service uses, `USER: <image>\n{"{question}"} ASSISTANT: {"{answer}"}</s>`; loss on the answer tokens and `</s>` only.

            ## Recipe
            AdamW (β 0.9/0.98, weight decay {o.WeightDecay.ToString(inv)} on matrices), lr {o.LearningRate.ToString(inv)}, {o.WarmupSteps} warmup steps then cosine to lr/20,
            gradient clipping at {o.GradientClip.ToString(inv)}, batch {o.BatchSize}, {o.Steps} steps, seed {o.Seed}. Loss {r.FirstLoss.ToString("F3", inv)} (first 10 steps) → {r.LastLoss.ToString("F3", inv)} (last 50): `loss.png` of the work directory.
            Training time: {r.TrainingTime.TotalMinutes.ToString("F1", inv)} min on {Environment.ProcessorCount} CPU cores (a shared machine).

            Reproduce: `dotnet services/Training/bin/Release/net10.0/MultiModal.Training.dll train vision --clip <clip folder> --out <dir> --steps {o.Steps} --batch {o.BatchSize} --hidden {o.Hidden} --layers {o.Layers} --seed {o.Seed} --tower-lr-scale {o.TowerLearningRateScale:G3} --features {o.FeatureStrategy}` (`make train-vision`).

            ## Metrics (greedy decoding through the serving generator; right = names the true value and no other)
            | images | "What color is the shape?" | "What shape is it?" |
            |---|---|---|
            | {r.HeldOut.Count} held-out rendered images (seed {o.EvalSeed}, never trained on) | {Pct(r.HeldOut.ColorAccuracy)} | {Pct(r.HeldOut.ShapeAccuracy)} |

            Sample answers: {string.Join("; ", r.HeldOut.Samples)}.

            ## Limits
            Knows only the shapes world and its five questions; anything else gets arbitrary answers. 64-px input.

            """;
    }
}
