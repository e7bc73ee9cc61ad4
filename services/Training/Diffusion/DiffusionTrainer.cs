using MultiModal.ModelKit;
using MultiModal.Models.Clip;
using MultiModal.Models.Schedulers;
using MultiModal.Models.Unet;
using MultiModal.Models.Vae;
using MultiModal.Training.Loop;
using static TorchSharp.torch;

namespace MultiModal.Training.Diffusion;

/// <summary>What a diffusion training run produced.</summary>
public sealed record DiffusionTrainingReport(TimeSpan VaeTime, double VaeFirstLoss, double VaeLastLoss, double ScalingFactor,
    TimeSpan UnetTime, double UnetFirstLoss, double UnetLastLoss, long FolderBytes);

/// <summary>
/// Trains a latent diffusion model on the shapes world with the classes the Diffusion service runs: first the
/// AutoencoderKL (reconstruction + KL), then its latent scale (diffusers' scaling_factor: 1 / std of the latents, as
/// SD's 0.18215 was chosen), then the UNet2DConditionModel (epsilon prediction, SD 1.5's noise schedule) conditioned on
/// the trained CLIP's text tower, frozen, as the pipeline's text_encoder. Writes the diffusers folder the service loads.
/// </summary>
public static class DiffusionTrainer
{
    public static DiffusionTrainingReport Train(DiffusionTrainingOptions o)
    {
        random.manual_seed(o.Seed);
        using var text = TextEncoderFrom(o.ClipFolder);
        var tokenizer = ClipTokenizer.FromFolder(o.ClipFolder);
        var vaeBatches = new DiffusionWorldBatches(tokenizer, o.ImageSize, o.Seed, o.VaeBatchSize);
        var batches = new DiffusionWorldBatches(tokenizer, o.ImageSize, o.Seed, o.BatchSize);

        var vaeConfig = DiffusionWorldConfig.Vae(o.ImageSize, o.VaeWidth, o.VaeGroups);
        using var vae = new AutoencoderKL(vaeConfig);
        KitWeights.Randomize(vae, o.Seed);
        var vaeLoop = new TrainingLoop(vae, Loop(o, o.VaeSteps, "vae"), "diffusion vae", o.Fingerprint("vae"));
        vaeLoop.Run(step => DiffusionLosses.Autoencoder(vae, vaeBatches.At(step).Images, o.KlWeight, new Generator((ulong)step, CPU)));
        foreach (var p in vae.parameters())
            p.requires_grad = false;

        vaeConfig = vaeConfig with { ScalingFactor = LatentScale(vae, batches, o.VaeSteps) };
        using var unet = new UNet2DConditionModel(DiffusionWorldConfig.Unet(o.ImageSize / vaeConfig.ScaleFactor, o.UnetWidth, text.Config.HiddenSize, o.UnetGroups, o.UnetLayers));
        KitWeights.Randomize(unet, o.Seed + 1);
        var alphasCumprod = NoiseSchedules.AlphasCumprod(SdKit.Sd15Schedule);   // what the folder's scheduler file states
        var unetLoop = new TrainingLoop(unet, Loop(o, o.UnetSteps, "unet"), "diffusion unet", o.Fingerprint("unet"));
        unetLoop.Run(step =>
        {
            var batch = batches.At(o.VaeSteps + step);   // other scenes than the autoencoder's (its batches are no larger)
            var (latents, states) = Condition(vae, vaeConfig.ScalingFactor, text, batch);
            return DiffusionLosses.NoisePrediction(unet, latents, states, alphasCumprod, new Generator((ulong)step, CPU), o.SnrGamma);
        });

        var report = new DiffusionTrainingReport(vaeLoop.Elapsed, vaeLoop.Losses.Take(10).Average(), vaeLoop.Losses.TakeLast(50).Average(),
            vaeConfig.ScalingFactor, unetLoop.Elapsed, unetLoop.Losses.Take(10).Average(), unetLoop.Losses.TakeLast(50).Average(), 0);
        SdKit.WriteFolder(o.OutputFolder, unet, vae, vaeConfig, text, DiffusionModelCard.Write(o, report));
        return report with { FolderBytes = Directory.EnumerateFiles(o.OutputFolder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) };
    }

    /// <summary>The CLIP folder's text tower as a CLIPTextModel (the same text_model.* weights), frozen.</summary>
    public static ClipTextModel TextEncoderFrom(string clipFolder)
    {
        using var clip = ClipCheckpoint.Load(clipFolder, CPU, ScalarType.Float32);
        var text = new ClipTextModel(clip.Config.TextConfig);
        var weights = clip.state_dict();
        using (no_grad())
            foreach (var (name, value) in text.state_dict())
                value.copy_(weights[name]);
        foreach (var p in text.parameters())
            p.requires_grad = false;
        text.eval();
        return text;
    }

    /// <summary>A batch's latents (posterior means × scale) and its prompts' text states, without a graph.</summary>
    public static (Tensor Latents, Tensor States) Condition(AutoencoderKL vae, double scale, ClipTextModel text, DiffusionWorldBatches.Batch batch)
    {
        using var _ = no_grad();
        using var posterior = vae.Encode(batch.Images);
        return (posterior.Mean * scale, text.EncodePrompt(batch.PromptIds));
    }

    // 1 / std of the trained autoencoder's latent means over 4 batches it did not train on.
    private static double LatentScale(AutoencoderKL vae, DiffusionWorldBatches batches, int firstUnseenStep)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        vae.eval();
        var means = Enumerable.Range(0, 4).Select(i =>
        {
            using var posterior = vae.Encode(batches.At(firstUnseenStep + 100_000 + i).Images);
            return posterior.Mean.flatten();
        }).ToArray();
        return 1.0 / cat(means).std().item<float>();
    }

    private static LoopOptions Loop(DiffusionTrainingOptions o, int steps, string stage) =>
        new(steps, o.LearningRate, o.WarmupSteps, o.WeightDecay, o.GradientClip, o.CheckpointEvery,
            Path.Combine(o.WorkDirectory, stage), o.Resume);
}
