using MultiModal.Models.Imaging;
using MultiModal.Models.Schedulers;
using static TorchSharp.torch;

namespace MultiModal.Models.Pipelines;

/// <summary>
/// Cheap previews straight from latents, without the VAE: SD 1.x's latent space is close enough to a linear map of RGB
/// that a fixed 4×3 matrix gives a recognisable (blurry, 1/8-size) picture of the predicted clean image.
/// </summary>
public static class LatentPreview
{
    /// <summary>
    /// latent channel → (R, G, B) contribution, one row per latent channel (the factors community UIs use for SD 1.x),
    /// applied to the latent as the UNet sees it (before dividing by scaling_factor).
    /// </summary>
    public static readonly float[,] Sd1RgbFactors =
    {
        { 0.3512f, 0.2297f, 0.3227f },
        { 0.3250f, 0.4974f, 0.2350f },
        { -0.2829f, 0.1762f, 0.2721f },
        { -0.2120f, -0.2616f, -0.7177f },
    };

    /// <summary>
    /// RGB previews of latents (B, 4, h, w): <c>v = Σ_c latent[c] · factors[c]</c>, pixel = round((clamp(v, −1, 1) + 1) · 127.5),
    /// one h × w image per row, then shrunk to <paramref name="maxSize"/> (0 = no limit).
    /// </summary>
    public static IReadOnlyList<DecodedImage> ApproximateRgb(Tensor latents, int maxSize = 0)
    {
        if (latents.dim() != 4 || latents.shape[1] != Sd1RgbFactors.GetLength(0))
            throw new ArgumentException($"Approximate previews need (B, 4, h, w) latents; got [{string.Join(", ", latents.shape)}].", nameof(latents));
        using var scope = NewDisposeScope();
        var factors = tensor(Sd1RgbFactors, device: latents.device);                                    // (4, 3)
        var rgb = einsum("bchw,cr->bhwr", latents.to(ScalarType.Float32), factors);                   // (B, h, w, 3)
        var bytes = rgb.clamp_(-1f, 1f).add_(1f).mul_(127.5f).round_();
        var u8 = bytes.to(ScalarType.Byte).cpu().contiguous();
        var (b, h, w) = ((int)u8.shape[0], (int)u8.shape[1], (int)u8.shape[2]);
        var all = u8.data<byte>().ToArray();
        var images = new DecodedImage[b];
        for (var i = 0; i < b; i++)
            images[i] = VaeImageProcessing.FitWithin(new DecodedImage(w, h, all.AsSpan(i * h * w * 3, h * w * 3).ToArray()), maxSize);
        return images;
    }

    /// <summary>
    /// x̂₀ for schedulers whose step does not return it (PNDM): from the guided model output at integer timestep
    /// <paramref name="timestep"/> and the sample it was evaluated on, with ᾱ_t of the training schedule —
    /// ε-prediction: x̂₀ = (x_t − √(1−ᾱ_t)·ε) / √ᾱ_t; v-prediction: x̂₀ = √ᾱ_t·x_t − √(1−ᾱ_t)·v. Valid only for
    /// schedulers that keep latents at unit scale (init_noise_sigma 1), as PNDM does.
    /// </summary>
    public static Tensor PredictOriginal(SchedulerConfig config, IReadOnlyList<double> alphasCumprod, Tensor modelOutput, Tensor sample, double timestep)
    {
        var t = Math.Clamp((int)Math.Round(timestep), 0, alphasCumprod.Count - 1);
        var alpha = alphasCumprod[t];
        var (sqrtAlpha, sqrtOneMinus) = ((float)Math.Sqrt(alpha), (float)Math.Sqrt(1 - alpha));
        using var scope = NewDisposeScope();
        var x0 = config.PredictionType == PredictionType.VPrediction
            ? sample * sqrtAlpha - modelOutput * sqrtOneMinus
            : (sample - modelOutput * sqrtOneMinus) / sqrtAlpha;
        return x0.MoveToOuterDisposeScope();
    }
}
