using MultiModal.Models.Pipelines;
using MultiModal.Models.Schedulers;
using MultiModal.Models.Unet;
using MultiModal.Training.Diffusion;
using MultiModal.Training.Loop;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Training;

/// <summary>
/// The serving AutoencoderKL and UNet2DConditionModel train on the shapes world: every parameter gets a gradient from
/// each objective (no in-place operation of the serving forward breaks the backward), and a few steps lower the loss.
/// </summary>
public sealed class DiffusionTrainingTests
{
    [Fact]
    public void AutoencoderLoss_Backward_EveryParameterGetsAFiniteNonZeroGradient()
    {
        using var diffusion = new TinyDiffusion(seed: 31);
        diffusion.Vae.train();

        using var loss = diffusion.AutoencoderLossAt(0);
        loss.backward();

        AssertGradients(diffusion.Vae);
    }

    [Fact]
    public void NoisePredictionLoss_Backward_EveryUnetParameterGetsAFiniteNonZeroGradient()
    {
        using var diffusion = new TinyDiffusion(seed: 32);
        diffusion.Unet.train();

        using var loss = diffusion.NoisePredictionLossAt(0);
        loss.backward();

        AssertGradients(diffusion.Unet);
        Assert.All(diffusion.Vae.parameters(), p => Assert.Null(p.grad));   // the autoencoder only encodes here
    }

    // Min-SNR-γ: SNR = ᾱ / (1 − ᾱ); ᾱ = 0.9 → SNR 9 → weight 5/9 at γ = 5; ᾱ = 0.5 → SNR 1 → 1; ᾱ = 0.1 → SNR 1/9 → 1.
    [Fact]
    public void MinSnrWeights_Gamma5_ClipOnlyTheCleanTimesteps()
    {
        using var alphaBar = tensor(new[] { 0.9, 0.5, 0.1 });

        using var weights = DiffusionLosses.MinSnrWeights(alphaBar, gamma: 5);

        var values = weights.data<double>().ToArray();
        Assert.Equal(5.0 / 9, values[0], 12);
        Assert.Equal(1.0, values[1], 12);
        Assert.Equal(1.0, values[2], 12);
    }

    // The autoencoder's checkpoint depends only on what shapes it, so a new UNet recipe resumes a finished autoencoder;
    // the UNet's includes the autoencoder's (its latents come from it).
    [Fact]
    public void Fingerprint_UnetRecipeChange_KeepsTheAutoencoderStage()
    {
        var before = new DiffusionTrainingOptions { ClipFolder = "clip", OutputFolder = "out", WorkDirectory = "work" };
        var newUnetRecipe = before with { UnetSteps = 4000, SnrGamma = 5, UnetLayers = 2 };
        var newAutoencoder = before with { VaeSteps = 1500 };

        Assert.Equal(before.Fingerprint("vae"), newUnetRecipe.Fingerprint("vae"));
        Assert.NotEqual(before.Fingerprint("unet"), newUnetRecipe.Fingerprint("unet"));
        Assert.NotEqual(before.Fingerprint("vae"), newAutoencoder.Fingerprint("vae"));
        Assert.NotEqual(before.Fingerprint("unet"), newAutoencoder.Fingerprint("unet"));
    }

    // --unet-layers is diffusers' layers_per_block: that many resnets (and transformers on the cross-attention level) per
    // down block, one more per up block, under the state-dict keys a diffusers checkpoint of that config has.
    [Fact]
    public void UnetConfig_TwoLayersPerBlock_HasDiffusersKeysForEachLayer()
    {
        using var unet = new UNet2DConditionModel(DiffusionWorldConfig.Unet(latentSize: 4, width: 32, crossAttentionDim: 32, groups: 8, layersPerBlock: 2));
        var keys = unet.state_dict().Keys.ToHashSet();

        Assert.Contains("down_blocks.0.resnets.1.conv1.weight", keys);
        Assert.Contains("down_blocks.0.attentions.1.proj_in.weight", keys);
        Assert.Contains("down_blocks.1.resnets.1.conv1.weight", keys);
        Assert.DoesNotContain("down_blocks.0.resnets.2.conv1.weight", keys);
        Assert.Contains("up_blocks.0.resnets.2.conv1.weight", keys);
        Assert.Contains("up_blocks.1.attentions.2.proj_in.weight", keys);
        Assert.DoesNotContain("up_blocks.1.resnets.3.conv1.weight", keys);
    }

    // A γ above every timestep's SNR weights nothing: the same draw of timesteps and noise gives the plain MSE.
    [Fact]
    public void NoisePrediction_GammaAboveEverySnr_EqualsPlainMse()
    {
        using var diffusion = new TinyDiffusion(seed: 38);
        var (latents, states) = diffusion.ConditionAt(0);
        diffusion.Unet.eval();

        using var plain = DiffusionLosses.NoisePrediction(diffusion.Unet, latents, states, diffusion.AlphasCumprod, new Generator(7, CPU));
        using var weighted = DiffusionLosses.NoisePrediction(diffusion.Unet, latents, states, diffusion.AlphasCumprod, new Generator(7, CPU),
            snrGamma: 1e9);

        Assert.Equal(plain.item<float>(), weighted.item<float>(), 1e-6f);
    }

    // The backward of every serving module the autoencoder uses (convolutions with 3 and 4 channels, GroupNorm, the
    // mid-block's attention, nearest upsampling) against the same graph in float64: a float32 gradient carries a
    // relative error of ~1e-6 per operation, so 1e-3 over the whole parameter tensor leaves room for depth and
    // cancellation but not for a wrong kernel (libtorch's float32 conv backward on AVX-512 was off by 30 %).
    [Fact]
    public void AutoencoderGradients_Float32_MatchFloat64()
    {
        using var diffusion = new TinyDiffusion(seed: 36);
        var images = diffusion.Batches.At(0).Images;
        Tensor Loss()
        {
            using var posterior = diffusion.Vae.Encode(images.to(diffusion.Vae.DType));
            using var reconstruction = diffusion.Vae.Decode(posterior.Mean);
            return nn.functional.mse_loss(reconstruction, images.to(diffusion.Vae.DType)) + posterior.LogVar.exp().mean();
        }

        AssertFloat32GradientsMatchFloat64(diffusion.Vae, Loss);
    }

    [Fact]
    public void NoisePredictionGradients_Float32_MatchFloat64()
    {
        using var diffusion = new TinyDiffusion(seed: 37);
        var (latents, states) = diffusion.ConditionAt(0);
        using var timesteps = tensor(new long[] { 10, 250, 500, 750, 999, 400, 600, 50 });
        Tensor Loss()
        {
            using var noise = randn(latents.shape, generator: new Generator(5, CPU)).to(diffusion.Unet.DType);
            using var prediction = diffusion.Unet.Forward(latents.to(diffusion.Unet.DType) + noise, timesteps, states.to(diffusion.Unet.DType));
            return nn.functional.mse_loss(prediction, noise);
        }

        AssertFloat32GradientsMatchFloat64(diffusion.Unet, Loss);
    }

    private static void AssertFloat32GradientsMatchFloat64(nn.Module model, Func<Tensor> loss)
    {
        Dictionary<string, Tensor> Gradients()
        {
            model.zero_grad();
            using (var value = loss())
                value.backward();
            return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.to(ScalarType.Float64).detach().clone());
        }

        var single = Gradients();
        model.to(ScalarType.Float64);
        var reference = Gradients();
        // Some gradients are zero in exact arithmetic (a bias right before a one-channel-per-group GroupNorm, attention's
        // key bias under softmax): those are measured against a thousandth of the whole gradient instead of themselves.
        var floor = 1e-3 * Math.Sqrt(reference.Values.Sum(g => g.square().sum().item<double>()));
        Assert.All(reference, p =>
        {
            var error = (single[p.Key] - p.Value).norm().item<double>() / Math.Max(p.Value.norm().item<double>(), floor);
            Assert.True(error < 1e-3, $"{p.Key}: float32 gradient differs from float64 by {error:E2} (relative)");
        });
    }

    // Each step's batch is new scenes, so the autoencoder's loss is compared on one batch it never trains on (step
    // 1000's scenes, the same posterior noise): 0.496 -> 0.398 after 40 steps when measured.
    [Fact]
    public void TrainingLoop_Autoencoder_HeldOutLossFalls()
    {
        using var diffusion = new TinyDiffusion(seed: 33);
        double HeldOut()
        {
            using var _ = no_grad();
            using var loss = diffusion.AutoencoderLossAt(1000);
            return loss.item<float>();
        }

        var before = HeldOut();
        Train(diffusion.Vae, diffusion.AutoencoderLossAt, steps: 40, "tiny-vae");
        var after = HeldOut();

        Assert.True(after < 0.9 * before, $"autoencoder loss on a held-out batch {before:F4} -> {after:F4} after 40 steps");
    }

    [Fact]
    public void TrainingLoop_Unet_LossFalls()
    {
        using var diffusion = new TinyDiffusion(seed: 34);
        var losses = Train(diffusion.Unet, diffusion.NoisePredictionLossAt, steps: 40, "tiny-unet");

        var (first, last) = (losses.Take(5).Average(), losses.TakeLast(5).Average());
        Assert.True(last < 0.8 * first, $"noise-prediction loss {first:F4} (first 5 steps) -> {last:F4} (last 5)");
    }

    // train diffusion end to end at toy size: the folder it writes is one the Diffusion service's pipeline loads and
    // generates from, conditioned on the CLIP folder's text tower.
    [Fact]
    public void TrainAndEvaluate_TinyRun_WritesAFolderThePipelineGeneratesFromAndScoresEveryPrompt()
    {
        using var clip = new TinyClip(seed: 35);
        var root = Directory.CreateTempSubdirectory("tiny-diffusion-").FullName;
        try
        {
            var options = TinyRun(clip.Folder, Path.Combine(root, "model"), Path.Combine(root, "work"));
            var report = DiffusionTrainer.Train(options);

            Assert.True(double.IsFinite(report.ScalingFactor) && report.ScalingFactor > 0, $"scaling factor {report.ScalingFactor}");
            Assert.True(File.Exists(Path.Combine(options.WorkDirectory, "vae", "loss.png")));
            Assert.True(File.Exists(Path.Combine(options.WorkDirectory, "unet", "loss.png")));
            Assert.Contains("shapes world", File.ReadAllText(Path.Combine(options.OutputFolder, "README.md")));
            Assert.Contains("DPMSolverMultistepScheduler", File.ReadAllText(Path.Combine(options.OutputFolder, "scheduler", "scheduler_config.json")));
            Assert.Contains("DPMSolverMultistepScheduler", File.ReadAllText(Path.Combine(options.OutputFolder, "model_index.json")));
            using var pipeline = StableDiffusionPipeline.Load(options.OutputFolder, CPU, ScalarType.Float32);
            var output = pipeline.Generate(new GenerationRequest("a red circle", "", 0, 0, 2, 3.0, [7], SchedulerKind.Default, null, 0,
                PreviewRequest.None), onStep: null, CancellationToken.None);
            Assert.Equal(16, output.Images.Single().Width);
            Assert.Equal(16, output.Images.Single().Height);

            // eval diffusion: every color × shape prompt generated once and classified by the CLIP folder
            var saved = Path.Combine(root, "generated");
            using var evaluation = new DiffusionEvaluation(options.OutputFolder, clip.Folder);
            var scores = evaluation.Run(steps: 2, guidance: 3.0, saved);
            Assert.Equal(32, scores.Count);
            Assert.Equal(32, Directory.GetFiles(saved, "*.png").Length);
            Assert.Contains(Directory.GetFiles(saved), f => f.EndsWith("-a-red-circle.png", StringComparison.Ordinal));

            // the autoencoder's ceiling: the same held-out scenes as rendered and through encode/decode, saved by name
            var (rendered, roundTrip) = evaluation.RoundTrip(count: 3, Path.Combine(root, "round-trip"));
            Assert.Equal(3, rendered.Count);
            Assert.Equal(3, roundTrip.Count);
            Assert.Equal(3, Directory.GetFiles(Path.Combine(root, "round-trip"), "*.png").Length);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    // --continue-from: the UNet of a trained folder trains further with its autoencoder (and latent scale) kept, no
    // autoencoder stage; --snapshot-every writes whole pipeline folders along the way, which the pipeline loads.
    [Fact]
    public void ContinueFrom_TrainedFolder_TrainsItsUnetFurtherKeepsItsAutoencoderAndWritesSnapshots()
    {
        using var clip = new TinyClip(seed: 39);
        var root = Directory.CreateTempSubdirectory("tiny-diffusion-continued-").FullName;
        try
        {
            var first = TinyRun(clip.Folder, Path.Combine(root, "first"), Path.Combine(root, "work-first"));
            var firstReport = DiffusionTrainer.Train(first);
            var continued = first with
            {
                OutputFolder = Path.Combine(root, "continued"), WorkDirectory = Path.Combine(root, "work-continued"),
                ContinueFrom = first.OutputFolder, UnetSteps = 4, CheckpointEvery = 2, SnapshotEvery = 2,
            };

            var report = DiffusionTrainer.Train(continued);

            Assert.Equal(firstReport.ScalingFactor, report.ScalingFactor);
            Assert.False(Directory.Exists(Path.Combine(continued.WorkDirectory, "vae")), "a continued run trains no autoencoder");
            using var before = StableDiffusionPipeline.Load(first.OutputFolder, CPU, ScalarType.Float32);
            using var after = StableDiffusionPipeline.Load(continued.OutputFolder, CPU, ScalarType.Float32);
            var vaeBefore = before.Models.Vae.state_dict();
            Assert.All(after.Models.Vae.state_dict(), p => Assert.True(p.Value.eq(vaeBefore[p.Key]).all().item<bool>(), $"vae {p.Key} changed"));
            var unetBefore = before.Models.Unet.state_dict();
            Assert.Contains(after.Models.Unet.state_dict(), p => !p.Value.eq(unetBefore[p.Key]).all().item<bool>());
            Assert.Contains("trained further", File.ReadAllText(Path.Combine(continued.OutputFolder, "README.md")));
            var snapshot = Path.Combine(continued.WorkDirectory, "snapshots", "unet-2");
            using var fromSnapshot = StableDiffusionPipeline.Load(snapshot, CPU, ScalarType.Float32);
            var output = fromSnapshot.Generate(new GenerationRequest("a red circle", "", 0, 0, 2, 3.0, [7], SchedulerKind.Default, null, 0,
                PreviewRequest.None), onStep: null, CancellationToken.None);
            Assert.Equal(16, output.Images.Single().Width);
            Assert.False(Directory.Exists(Path.Combine(continued.WorkDirectory, "snapshots", "unet-4")), "the last step is the output folder, not a snapshot");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    // --ema-decay: the folder's UNet is the weights' moving average the checkpoint holds, not the last step's weights.
    [Fact]
    public void EmaDecay_TinyRun_FolderHoldsTheAveragedUnet()
    {
        using var clip = new TinyClip(seed: 40);
        var root = Directory.CreateTempSubdirectory("tiny-diffusion-ema-").FullName;
        try
        {
            var options = TinyRun(clip.Folder, Path.Combine(root, "model"), Path.Combine(root, "work")) with { EmaDecay = 0.9 };

            DiffusionTrainer.Train(options);

            using var pipeline = StableDiffusionPipeline.Load(options.OutputFolder, CPU, ScalarType.Float32);
            var config = pipeline.Models.Unet.Config;
            using var averaged = new UNet2DConditionModel(config);
            averaged.load(Path.Combine(options.WorkDirectory, "unet", "checkpoint", "average.dat"));
            using var last = new UNet2DConditionModel(config);
            last.load(Path.Combine(options.WorkDirectory, "unet", "checkpoint", "model.dat"));
            var served = pipeline.Models.Unet.state_dict();
            var (average, weights) = (averaged.state_dict(), last.state_dict());
            Assert.All(served, p => Assert.True(p.Value.eq(average[p.Key]).all().item<bool>(), $"{p.Key} is not the average"));
            Assert.Contains(served, p => !average[p.Key].eq(weights[p.Key]).all().item<bool>());
            Assert.Contains("moving average (decay 0.9)", File.ReadAllText(Path.Combine(options.OutputFolder, "README.md")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    // train diffusion at toy size: 16-px images, 3 autoencoder and 3 UNet steps.
    private static DiffusionTrainingOptions TinyRun(string clipFolder, string output, string work) => new()
    {
        ClipFolder = clipFolder, OutputFolder = output, WorkDirectory = work,
        ImageSize = 16, VaeWidth = 32, UnetWidth = 32, VaeSteps = 3, UnetSteps = 3, BatchSize = 4, WarmupSteps = 1, CheckpointEvery = 3,
    };

    // The denoiser's batches differ every step too, but its loss starts near 1 (a random UNet's prediction of unit
    // noise) and falls to ~0.4 within 40 steps when measured, so the first and last steps' losses show it.
    private static IReadOnlyList<double> Train(nn.Module model, Func<int, Tensor> lossAt, int steps, string label)
    {
        var work = Directory.CreateTempSubdirectory(label + "-").FullName;
        try
        {
            var loop = new TrainingLoop(model, new LoopOptions(steps, LearningRate: 3e-3, WarmupSteps: 3, WeightDecay: 0.01,
                GradientClip: 1.0, CheckpointEvery: steps, work, Resume: false), label, "tiny");
            loop.Run(lossAt);
            return loop.Losses;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static void AssertGradients(nn.Module model)
    {
        var parameters = model.named_parameters().ToList();
        Assert.NotEmpty(parameters);
        Assert.All(parameters, p =>
        {
            var grad = p.parameter.grad;
            Assert.True(grad is not null, $"{p.name} got no gradient");
            Assert.True(grad.isfinite().all().item<bool>(), $"{p.name}: non-finite gradient");
            Assert.True(grad.abs().sum().item<float>() > 0, $"{p.name}: zero gradient");
        });
    }
}
