using MultiModal.ModelKit;
using MultiModal.Models.Clip;
using MultiModal.Models.Llava;
using MultiModal.Models.Llava.Generation;
using MultiModal.Training.Loop;
using MultiModal.Training.World;
using static TorchSharp.torch;

namespace MultiModal.Training.Vision;

/// <summary>What a Vision training run produced.</summary>
public sealed record VisionTrainingReport(TimeSpan TrainingTime, double FirstLoss, double LastLoss, VisionEvalResult HeldOut, long FolderBytes, long Parameters, long Trainable);

/// <summary>
/// Trains <see cref="LlavaForConditionalGeneration"/> (the class the Vision service runs) on the shapes world's
/// questions: the vision tower starts as the trained CLIP's, projector and decoder from scratch; loss on the answers
/// only. Writes the llava-hf folder the service loads, reloads it through <see cref="LlavaCheckpoint"/> and evaluates it.
/// </summary>
public static class VisionTrainer
{
    /// <summary>A LLaVA whose vision tower holds the CLIP folder's, everything trainable but the parts left out.</summary>
    public static LlavaForConditionalGeneration Create(string clipFolder, int hidden, int layers, bool freezeTower, long seed, string featureStrategy = "default")
    {
        using var clip = ClipCheckpoint.Load(clipFolder, CPU, ScalarType.Float32);
        var model = new LlavaForConditionalGeneration(VisionWorldConfig.Create(clip.Config.VisionConfig, hidden, layers, featureStrategy));
        KitWeights.Randomize(model, seed);   // its own generator: the same weights whatever else ran in the process
        var tower = clip.VisionModel.state_dict();
        using (no_grad())
            foreach (var (name, value) in model.state_dict().Where(kv => kv.Key.StartsWith(TowerPrefix, StringComparison.Ordinal)))
                value.copy_(tower[name[TowerPrefix.Length..]]);
        foreach (var (name, p) in model.named_parameters())
            // GemvLinear builds its weights frozen (serving never needs their gradient). post_layernorm is never used by LLaVA.
            p.requires_grad = !(IsTower(name) && (freezeTower || name.Contains("post_layernorm", StringComparison.Ordinal)));
        return model;
    }

    private const string TowerPrefix = "vision_tower.vision_model.";
    private static bool IsTower(string parameterName) => parameterName.StartsWith(TowerPrefix, StringComparison.Ordinal);

    public static VisionTrainingReport Train(VisionTrainingOptions options)
    {
        random.manual_seed(options.Seed);
        using var model = Create(options.ClipFolder, options.Hidden, options.Layers, options.FreezeTower, options.Seed, options.FeatureStrategy);
        var config = model.Config;
        // The folder first (tokenizer and preprocessor files the batches use), the trained weights over it at the end.
        LlavaKit.WriteFolder(options.OutputFolder, config, model.state_dict(), ScalarType.Float32, "Training in progress.\n");
        var tokenizer = LlamaTokenizer.Load(options.OutputFolder);
        var processor = ClipImageProcessor.FromFolder(options.OutputFolder);
        var batches = new VisionWorldBatches(tokenizer, processor, config, options.Seed, options.BatchSize);

        var loop = new TrainingLoop(model, new LoopOptions(options.Steps, options.LearningRate, options.WarmupSteps,
            options.WeightDecay, options.GradientClip, options.CheckpointEvery, options.WorkDirectory, options.Resume), "vision", options.Fingerprint,
            name => IsTower(name) ? options.TowerLearningRateScale : 1);
        loop.Run(step => VisionLoss.Compute(model, batches.At(step)));

        var folder = options.OutputFolder;
        LlavaKit.WriteFolder(folder, config, model.state_dict(), ScalarType.Float32, "Model card: see below.\n");
        var heldOut = Evaluate(folder, LabeledImages.Rendered(options.EvalSeed, options.EvalCount, processor.ImageSize));
        var losses = loop.Losses;
        var report = new VisionTrainingReport(loop.Elapsed, losses.Take(10).Average(), losses.TakeLast(50).Average(), heldOut,
            Directory.EnumerateFiles(folder).Sum(f => new FileInfo(f).Length),
            model.parameters().Sum(p => p.numel()), model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()));
        File.WriteAllText(Path.Combine(folder, "README.md"), VisionModelCard.Write(options, config, report));
        return report;
    }

    /// <summary>Loads the folder as the Vision service does (float32, CPU) and evaluates it on <paramref name="images"/>.</summary>
    public static VisionEvalResult Evaluate(string folder, IReadOnlyList<LabeledImage> images, string? checkpoint = null)
    {
        var generator = LlavaGenerator.Load(folder, CPU, ScalarType.Float32);
        using var model = generator.Model;
        if (checkpoint is not null)
            model.load(checkpoint);   // a training checkpoint's weights (the folder gives config and tokenizer)
        return VisionEvaluation.Run(generator, ClipImageProcessor.FromFolder(folder), images);
    }
}
