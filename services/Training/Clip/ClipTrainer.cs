using System.Diagnostics;
using MultiModal.ModelKit;
using MultiModal.Models.Clip;
using MultiModal.Training.Loop;
using MultiModal.Training.World;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Training.Clip;

/// <summary>What a CLIP training run produced.</summary>
public sealed record ClipTrainingReport(TimeSpan TrainingTime, double FirstLoss, double LastLoss, ZeroShotResult HeldOut, ZeroShotResult HeldOutUnseenPrompts, ZeroShotResult? OtherRenderer, long FolderBytes);

/// <summary>
/// Trains <see cref="ClipModel"/> (the class the CLIP service runs) on the shapes world with the contrastive loss, then
/// writes the Hugging Face folder the service loads, reloads it through <see cref="ClipCheckpoint"/> and evaluates it.
/// </summary>
public static class ClipTrainer
{
    public static ClipTrainingReport Train(ClipTrainingOptions options)
    {
        random.manual_seed(options.Seed);
        var config = ClipWorldConfig.Create(options.PatchSize, options.VisionWidth, options.TextWidth);
        using var model = new ClipModel(config);
        if (options.InitFrom is not null)
            model.load(options.InitFrom);
        // The folder first (tokenizer and preprocessor files the batches use), the trained weights over it at the end.
        ClipKit.WriteFolder(options.OutputFolder, config, model.state_dict(), "Training in progress.\n");
        var tokenizer = ClipTokenizer.FromFolder(options.OutputFolder);
        var processor = ClipImageProcessor.FromFolder(options.OutputFolder);
        var batches = new ClipWorldBatches(tokenizer, processor, options.Seed, options.BatchSize, shapeTexts: options.ShapeTerm > 0);

        var loop = new TrainingLoop(model, new LoopOptions(options.Steps, options.LearningRate, options.WarmupSteps,
            options.WeightDecay, options.GradientClip, options.CheckpointEvery, options.WorkDirectory, options.Resume), "clip", options.Fingerprint);
        var logitScale = model.LogitScaleParameter;
        loop.Run(step =>
        {
            var batch = batches.At(step);
            var logits = model.LogitsPerText(batch.InputIds, batch.AttentionMask, batch.PixelValues);
            var captions = (int)batch.Matches.shape[0];
            var loss = ClipContrastiveLoss.Compute(logits.narrow(0, 0, captions), batch.Matches);
            if (options.ShapeTerm <= 0)
                return loss;
            // Each image against the four shape texts (rows after the captions): a 4-way cross-entropy.
            var shapeLogits = logits.narrow(0, captions, logits.shape[0] - captions).t();
            return loss + options.ShapeTerm * nn.functional.cross_entropy(shapeLogits, batch.ShapeLabels);
        },
        // OpenAI's clamp: the temperature may not exceed 100.
        afterStep: () =>
        {
            using var _ = no_grad();
            using Scalar min = 0.0, max = Math.Log(100);   // held until clamp_ returns (see DecoupledAdamW)
            logitScale.clamp_(min, max);
        });

        var folder = options.OutputFolder;
        ClipKit.WriteFolder(folder, config, model.state_dict(), "Model card: see below.\n");
        File.Copy(Path.Combine(options.WorkDirectory, "loss.png"), Path.Combine(folder, "loss.png"), overwrite: true);

        // Evaluate the folder as the service loads it.
        using var served = ClipCheckpoint.Load(folder, CPU, ScalarType.Float32);
        var heldOutImages = LabeledImages.Rendered(options.EvalSeed, options.EvalCount, ClipWorldConfig.ImageSize);
        var heldOut = ZeroShotEvaluation.Run(served, tokenizer, processor, heldOutImages);
        var unseenPrompts = ZeroShotEvaluation.Run(served, tokenizer, processor, heldOutImages, ZeroShotTemplates.HeldOut);
        var other = options.OtherRendererImages is { } dir
            ? ZeroShotEvaluation.Run(served, tokenizer, processor, LabeledImages.FromFolder(dir))
            : null;
        var losses = loop.Losses;
        var report = new ClipTrainingReport(loop.Elapsed, losses.Take(10).Average(), losses.TakeLast(50).Average(), heldOut, unseenPrompts, other,
            Directory.EnumerateFiles(folder).Sum(f => new FileInfo(f).Length));
        File.WriteAllText(Path.Combine(folder, "README.md"), ClipModelCard.Write(options, config, report));
        return report;
    }
}
