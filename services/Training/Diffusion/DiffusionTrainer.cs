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
        var batches = new DiffusionWorldBatches(tokenizer, o.ImageSize, o.Seed, o.BatchSize);

        var (vae, vaeLoop) = o.ContinueFrom is null ? TrainAutoencoder(o, tokenizer) : (LoadAutoencoder(o.ContinueFrom), null);
        using var _ = Frozen(vae);
        var vaeConfig = o.ContinueFrom is null ? vae.Config with { ScalingFactor = LatentScale(vae, batches, o.VaeSteps) } : vae.Config;

        using var unet = o.ContinueFrom is null
            ? new UNet2DConditionModel(DiffusionWorldConfig.Unet(o.ImageSize / vaeConfig.ScaleFactor, o.UnetWidth, text.Config.HiddenSize, o.UnetGroups, o.UnetLayers))
            : LoadUnet(o.ContinueFrom);
        if (o.ContinueFrom is null)
            KitWeights.Randomize(unet, o.Seed + 1);
        // Scenes of the UNet's steps: after the autoencoder's (its batches are no larger); a continued run's come after
        // any first run's (well past the 2 500–4 000 steps of the recipes so far).
        var (firstBatch, firstNoise) = o.ContinueFrom is null ? (o.VaeSteps, 0) : (1_000_000, 1_000_000);
        var alphasCumprod = NoiseSchedules.AlphasCumprod(SdKit.Sd15Schedule);   // what the folder's scheduler file states
        using var averaged = o.EmaDecay is null ? null : Frozen(new UNet2DConditionModel(unet.Config));
        var average = averaged is null ? null : new ExponentialMovingAverage(unet, averaged, o.EmaDecay!.Value);
        var sampled = averaged ?? unet;   // what the folder and snapshots get: the moving average when the run keeps one
        var unetLoop = new TrainingLoop(unet, Loop(o, o.UnetSteps, "unet"), "diffusion unet", o.Fingerprint("unet"), average: average);
        unetLoop.Run(step =>
        {
            var (latents, states) = Condition(vae, vaeConfig.ScalingFactor, text, batches.At(firstBatch + step));
            return DiffusionLosses.NoisePrediction(unet, latents, states, alphasCumprod, new Generator((ulong)(firstNoise + step), CPU), o.SnrGamma);
        }, afterCheckpoint: done =>
        {
            if (o.SnapshotEvery > 0 && done % o.SnapshotEvery == 0 && done < o.UnetSteps)
                SdKit.WriteFolder(Path.Combine(o.WorkDirectory, "snapshots", $"unet-{done}"), sampled, vae, vaeConfig, text,
                    $"Snapshot of a diffusion training run after {done} of {o.UnetSteps} UNet steps (work folder {o.WorkDirectory}).\n", o.Sampler);
        });

        var report = new DiffusionTrainingReport(vaeLoop?.Elapsed ?? TimeSpan.Zero, vaeLoop?.Losses.Take(10).Average() ?? double.NaN,
            vaeLoop?.Losses.TakeLast(50).Average() ?? double.NaN, vaeConfig.ScalingFactor,
            unetLoop.Elapsed, unetLoop.Losses.Take(10).Average(), unetLoop.Losses.TakeLast(50).Average(), 0);
        SdKit.WriteFolder(o.OutputFolder, sampled, vae, vaeConfig, text, DiffusionModelCard.Write(o, report), o.Sampler);
        return report with { FolderBytes = Directory.EnumerateFiles(o.OutputFolder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) };
    }

    // The autoencoder from scratch: reconstruction + KL on the world's images.
    private static (AutoencoderKL Vae, TrainingLoop Loop) TrainAutoencoder(DiffusionTrainingOptions o, ClipTokenizer tokenizer)
    {
        var vaeBatches = new DiffusionWorldBatches(tokenizer, o.ImageSize, o.Seed, o.VaeBatchSize);
        var vae = new AutoencoderKL(DiffusionWorldConfig.Vae(o.ImageSize, o.VaeWidth, o.VaeGroups));
        KitWeights.Randomize(vae, o.Seed);
        var loop = new TrainingLoop(vae, Loop(o, o.VaeSteps, "vae"), "diffusion vae", o.Fingerprint("vae"));
        loop.Run(step => DiffusionLosses.Autoencoder(vae, vaeBatches.At(step).Images, o.KlWeight, new Generator((ulong)step, CPU)));
        return (vae, loop);
    }

    // A trained folder's networks as plain trainable modules: the loaders prepare them for serving (channels-last
    // convolution weights on the CPU, no gradients), so their weights are copied into new modules of the same config.
    private static UNet2DConditionModel LoadUnet(string folder)
    {
        using var loaded = UNet2DConditionModel.Load(Path.Combine(folder, "unet"), CPU, ScalarType.Float32);
        return CopyWeights(loaded, new UNet2DConditionModel(loaded.Config));
    }

    private static AutoencoderKL LoadAutoencoder(string folder)
    {
        using var loaded = AutoencoderKL.Load(Path.Combine(folder, "vae"), CPU, ScalarType.Float32);
        return CopyWeights(loaded, new AutoencoderKL(loaded.Config));
    }

    // No gradients, eval mode: a network this stage only runs (the autoencoder under the UNet, the text tower, the average).
    private static T Frozen<T>(T module) where T : nn.Module
    {
        foreach (var p in module.parameters())
            p.requires_grad = false;
        module.eval();
        return module;
    }

    private static T CopyWeights<T>(nn.Module from, T to) where T : nn.Module
    {
        var weights = from.state_dict();
        using (no_grad())
            foreach (var (name, value) in to.state_dict())
                value.copy_(weights[name]);
        return to;
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
        return Frozen(text);
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
