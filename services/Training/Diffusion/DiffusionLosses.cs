using MultiModal.Models.Unet;
using MultiModal.Models.Vae;
using static TorchSharp.torch;

namespace MultiModal.Training.Diffusion;

/// <summary>The two training objectives of a latent diffusion model, on the classes the Diffusion service runs.</summary>
public static class DiffusionLosses
{
    /// <summary>
    /// The autoencoder's: mean squared reconstruction error of a posterior sample, plus <paramref name="klWeight"/> times
    /// the posterior's KL divergence to N(0, 1) per latent element (diffusers' DiagonalGaussianDistribution.kl, averaged
    /// instead of summed so the weight does not depend on the latent size), which keeps the latents near unit scale.
    /// </summary>
    public static Tensor Autoencoder(AutoencoderKL vae, Tensor images, double klWeight, Generator? generator = null)
    {
        using var posterior = vae.Encode(images);
        using var latents = posterior.Sample(generator);
        using var reconstruction = vae.Decode(latents);
        using var mse = nn.functional.mse_loss(reconstruction, images);
        using var kl = (posterior.Mean.square() + posterior.LogVar.exp() - 1 - posterior.LogVar).mean() * 0.5;
        return mse + kl * klWeight;
    }

    /// <summary>
    /// The denoiser's (epsilon prediction, DDPM training): for each latent a uniform timestep t, noise ε, the noised
    /// latent √ᾱₜ·x + √(1 − ᾱₜ)·ε (the scheduler's add_noise), and the mean squared error between the UNet's prediction
    /// and ε. <paramref name="latents"/> are the autoencoder's means times its scaling factor. With a
    /// <paramref name="snrGamma"/>, each latent's error is weighted min(SNRₜ, γ) / SNRₜ, SNRₜ = ᾱₜ / (1 − ᾱₜ) (Min-SNR-γ,
    /// Hang et al. 2023, as diffusers' train_text_to_image --snr_gamma does for epsilon prediction): the nearly clean
    /// timesteps, whose error is about texture, stop outweighing the noisy ones where the layout (the shape) is decided.
    /// </summary>
    public static Tensor NoisePrediction(UNet2DConditionModel unet, Tensor latents, Tensor textStates, double[] alphasCumprod,
        Generator? generator = null, double? snrGamma = null)
    {
        long b = latents.shape[0];
        using var timesteps = randint(0, alphasCumprod.Length, [b], dtype: ScalarType.Int64, generator: generator);
        using var table = tensor(alphasCumprod, ScalarType.Float32);
        using var alphaBar = table.index_select(0, timesteps).view(b, 1, 1, 1);
        using var noise = randn(latents.shape, generator: generator);
        using var noised = alphaBar.sqrt() * latents + (1 - alphaBar).sqrt() * noise;
        using var prediction = unet.Forward(noised, timesteps, textStates);
        if (snrGamma is not { } gamma)
            return nn.functional.mse_loss(prediction, noise);
        using var perLatent = (prediction - noise).square().mean([1, 2, 3]);
        using var weights = MinSnrWeights(alphaBar.view(b), gamma);
        return (perLatent * weights).mean();
    }

    /// <summary>min(SNR, γ) / SNR for each ᾱ, SNR = ᾱ / (1 − ᾱ).</summary>
    public static Tensor MinSnrWeights(Tensor alphaBar, double gamma)
    {
        using var snr = alphaBar / (1 - alphaBar);
        using var clipped = snr.clamp(max: gamma);
        return clipped / snr;
    }
}
