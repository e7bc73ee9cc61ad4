using MultiModal.Models.Schedulers;

namespace MultiModal.Training.Diffusion;

/// <summary>Options of <c>train diffusion</c>.</summary>
public sealed record DiffusionTrainingOptions
{
    /// <summary>The trained CLIP folder (transformers CLIPModel layout) whose text tower conditions the UNet (frozen).</summary>
    public required string ClipFolder { get; init; }
    public required string OutputFolder { get; init; }
    public required string WorkDirectory { get; init; }
    public int ImageSize { get; init; } = 64;
    public int VaeWidth { get; init; } = 32;
    public int UnetWidth { get; init; } = 64;
    /// <summary>ResNet (and, on the cross-attention level, transformer) layers per UNet block, diffusers' layers_per_block.</summary>
    public int UnetLayers { get; init; } = 1;
    /// <summary>GroupNorm groups of the autoencoder and of the UNet (see <see cref="DiffusionWorldConfig"/>).</summary>
    public int VaeGroups { get; init; } = 4;
    public int UnetGroups { get; init; } = 8;
    public int VaeSteps { get; init; } = 300;
    public int UnetSteps { get; init; } = 1200;
    public int VaeBatchSize { get; init; } = 8;
    public int BatchSize { get; init; } = 24;
    public double LearningRate { get; init; } = 1e-3;
    public int WarmupSteps { get; init; } = 50;
    public double WeightDecay { get; init; } = 0.01;
    public double GradientClip { get; init; } = 1.0;
    /// <summary>Weight of the posterior's KL term (per latent element) in the autoencoder's loss.</summary>
    public double KlWeight { get; init; } = 1e-3;
    /// <summary>Min-SNR-γ weighting of the UNet's loss (<see cref="DiffusionLosses.NoisePrediction"/>); none: plain MSE.</summary>
    public double? SnrGamma { get; init; }
    /// <summary>Decay of the UNet weights' exponential moving average (<see cref="Loop.ExponentialMovingAverage"/>),
    /// which the folder then holds in place of the last step's weights; none: the last step's.</summary>
    public double? EmaDecay { get; init; }
    public int CheckpointEvery { get; init; } = 100;
    /// <summary>
    /// A trained pipeline folder (this trainer's output) whose UNet trains further, its autoencoder and latent scale kept
    /// as they are (no autoencoder stage); the UNet's steps then draw scenes no earlier stage drew.
    /// </summary>
    public string? ContinueFrom { get; init; }
    /// <summary>Every this many UNet steps (a multiple of <see cref="CheckpointEvery"/>), the whole pipeline is also
    /// written to <c>work/snapshots/unet-&lt;step&gt;</c>, to pick a step by held-out evaluation; 0: none.</summary>
    public int SnapshotEvery { get; init; }
    /// <summary>The scheduler the written folder samples with by default (its scheduler/ file): DPM++ 2M, which drew
    /// the world's shapes more often than SD 1.5's PNDM from the same UNet (builtin-models/diffusion/README.md).</summary>
    public SchedulerKind Sampler { get; init; } = SchedulerKind.DpmPP2M;
    public int Seed { get; init; } = 1;
    public bool Resume { get; init; }

    /// <summary>What must match for a stage's checkpoint to be resumed: the options that shape that stage (the UNet's
    /// include the autoencoder's, which makes its latents), so a new UNet recipe resumes a finished autoencoder.</summary>
    public string Fingerprint(string stage)
    {
        var vae = $"diffusion vae size={ImageSize} vae={VaeWidth}/{VaeGroups} vae-steps={VaeSteps} batch={VaeBatchSize} " +
            $"lr={LearningRate} warmup={WarmupSteps} wd={WeightDecay} clip={GradientClip} kl={KlWeight} seed={Seed}";
        var unet = $"unet clip={Path.GetFullPath(ClipFolder)} unet={UnetWidth}/{UnetGroups} unet-layers={UnetLayers} unet-steps={UnetSteps} batch={BatchSize} snr-gamma={SnrGamma}" +
            (EmaDecay is null ? "" : $" ema={EmaDecay}");
        return stage == "vae" ? vae
            : ContinueFrom is null ? $"{vae}; {unet}"
            : $"diffusion unet continued from {Path.GetFullPath(ContinueFrom)} lr={LearningRate} warmup={WarmupSteps} wd={WeightDecay} clip={GradientClip} seed={Seed}; {unet}";
    }
}
