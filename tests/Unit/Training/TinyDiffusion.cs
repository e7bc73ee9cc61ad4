using MultiModal.ModelKit;
using MultiModal.Models.Clip;
using MultiModal.Models.Schedulers;
using MultiModal.Models.Unet;
using MultiModal.Models.Vae;
using MultiModal.Training.Diffusion;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Training;

/// <summary>
/// A latent diffusion model small enough to train a few steps in a unit test: an AutoencoderKL for 16-px images (4×4
/// latents), a UNet over them conditioned on a <see cref="TinyClip"/>'s text tower (frozen), SD 1.5's noise schedule, the latents
/// and text states made as <see cref="DiffusionTrainer"/> makes them.
/// </summary>
internal sealed class TinyDiffusion : IDisposable
{
    private const int ImageSize = 16;
    private readonly TinyClip _clip;
    private readonly ClipTextModel _text;

    public TinyDiffusion(long seed)
    {
        _clip = new TinyClip(seed);
        _text = DiffusionTrainer.TextEncoderFrom(_clip.Folder);
        var vaeConfig = DiffusionWorldConfig.Vae(ImageSize, width: 32, groups: 8);
        Vae = new AutoencoderKL(vaeConfig);
        KitWeights.Randomize(Vae, seed);
        Unet = new UNet2DConditionModel(DiffusionWorldConfig.Unet(ImageSize / vaeConfig.ScaleFactor, width: 32, TinyClip.Config.TextConfig.HiddenSize, groups: 8));
        KitWeights.Randomize(Unet, seed + 1);
        Batches = new DiffusionWorldBatches(ClipTokenizer.FromFolder(_clip.Folder), ImageSize, seed: 1, batchSize: 8);
        AlphasCumprod = NoiseSchedules.AlphasCumprod(SdKit.Sd15Schedule);
    }

    public AutoencoderKL Vae { get; }
    public UNet2DConditionModel Unet { get; }
    public DiffusionWorldBatches Batches { get; }
    public double[] AlphasCumprod { get; }

    public Tensor AutoencoderLossAt(int step) =>
        DiffusionLosses.Autoencoder(Vae, Batches.At(step).Images, klWeight: 1e-3, new Generator((ulong)step, CPU));

    /// <summary>Step <paramref name="step"/>'s latents and text states, as the trainer makes them.</summary>
    public (Tensor Latents, Tensor States) ConditionAt(int step) =>
        DiffusionTrainer.Condition(Vae, Vae.Config.ScalingFactor, _text, Batches.At(step));

    public Tensor NoisePredictionLossAt(int step)
    {
        var (latents, states) = ConditionAt(step);
        return DiffusionLosses.NoisePrediction(Unet, latents, states, AlphasCumprod, new Generator((ulong)step, CPU));
    }

    public void Dispose()
    {
        Unet.Dispose();
        Vae.Dispose();
        _text.Dispose();
        _clip.Dispose();
    }
}
