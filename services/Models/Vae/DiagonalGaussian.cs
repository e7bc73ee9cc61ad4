// Port of diffusers/models/autoencoders/vae.py DiagonalGaussianDistribution at v0.25.1 (sample, mode; no kl/nll).
using MultiModal.Models.Runtime;
using static TorchSharp.torch;

namespace MultiModal.Models.Vae;

/// <summary>
/// The VAE encoder's posterior N(mean, std²) over latents. Owns its tensors: dispose it when done.
/// </summary>
public sealed class DiagonalGaussian : IDisposable
{
    /// <summary>quant_conv output (B, 2·latent_channels, h, w): [mean | logvar] along channels.</summary>
    public Tensor Parameters { get; }

    /// <summary>(B, latent_channels, h, w).</summary>
    public Tensor Mean { get; }

    /// <summary>Log-variance clamped to [-30, 20] (B, latent_channels, h, w).</summary>
    public Tensor LogVar { get; }

    /// <summary>exp(0.5 · logvar) (B, latent_channels, h, w).</summary>
    public Tensor Std { get; }

    /// <summary>Takes ownership of <paramref name="parameters"/> (B, 2·C, h, w).</summary>
    public DiagonalGaussian(Tensor parameters)
    {
        Parameters = parameters;
        var halves = parameters.chunk(2, dim: 1);
        Mean = halves[0];
        using (var rawLogVar = halves[1])
            LogVar = rawLogVar.clamp(-30.0, 20.0);
        using var half = LogVar.mul(0.5);
        Std = half.exp();
    }

    /// <summary>
    /// mean + std · ε with ε drawn as diffusers' <c>randn_tensor(mean.shape, generator)</c> draws it (CPU generator: the
    /// same numbers as PyTorch). A null generator uses the global RNG.
    /// </summary>
    public Tensor Sample(Generator? generator = null)
    {
        using var noise = RandnTensor.Randn(Mean.shape, Parameters.dtype, Parameters.device, generator);
        return Std.mul(noise).add_(Mean);
    }

    /// <summary>As <see cref="Sample(Generator?)"/> with one generator per batch row (diffusers' list of generators).</summary>
    public Tensor Sample(IReadOnlyList<Generator> generators)
    {
        using var noise = RandnTensor.Randn(Mean.shape, Parameters.dtype, Parameters.device, generators);
        return Std.mul(noise).add_(Mean);
    }

    /// <summary>The distribution's mode, its mean (a new handle the caller owns).</summary>
    public Tensor Mode() => Mean.alias();

    public void Dispose()
    {
        Std.Dispose();
        LogVar.Dispose();
        Mean.Dispose();
        Parameters.Dispose();
    }
}
