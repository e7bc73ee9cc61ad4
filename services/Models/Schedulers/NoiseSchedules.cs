using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Schedulers;

/// <summary>
/// The training noise schedule (β_t, ᾱ_t = ∏(1 − β), σ_t = √((1 − ᾱ_t)/ᾱ_t)) of diffusers 0.25.1. diffusers builds these
/// as float32 torch tensors on the CPU (<c>torch.linspace(..., dtype=float32)</c>, <c>torch.cumprod</c>), so they are
/// computed here with the same libtorch ops and returned as <c>double[]</c> holding those float32 values exactly;
/// schedulers then do the remaining scalar math in float where diffusers does it on float32 tensors.
/// </summary>
public static class NoiseSchedules
{
    /// <summary>β_0 … β_{T−1} (float32 values).</summary>
    public static double[] Betas(SchedulerConfig config)
    {
        using var scope = NewDisposeScope();
        return ToDoubles(BetasTensor(config));
    }

    /// <summary>ᾱ_t = ∏_{s≤t}(1 − β_s), as <c>torch.cumprod(1.0 - betas, dim=0)</c> in float32.</summary>
    public static double[] AlphasCumprod(SchedulerConfig config)
    {
        using var scope = NewDisposeScope();
        var betas = BetasTensor(config);
        return ToDoubles(torch.cumprod(1.0 - betas, 0));
    }

    /// <summary>
    /// The Euler schedulers' training σ: with zero terminal SNR, ᾱ_T is set slightly above 0 (the smallest fp16
    /// subnormal, as diffusers does) so that σ_T stays finite.
    /// </summary>
    public static double[] EulerTrainingSigmas(SchedulerConfig config)
    {
        var alphasCumprod = AlphasCumprod(config);
        if (config.RescaleBetasZeroSnr) alphasCumprod[^1] = Math.Pow(2, -24);
        return TrainingSigmas(alphasCumprod);
    }

    /// <summary>σ_t = ((1 − ᾱ_t) / ᾱ_t)^½ per training step, in float32 like <c>((1 - ac) / ac) ** 0.5</c>.</summary>
    public static double[] TrainingSigmas(IReadOnlyList<double> alphasCumprod)
    {
        var sigmas = new double[alphasCumprod.Count];
        for (var t = 0; t < sigmas.Length; t++)
        {
            var a = (float)alphasCumprod[t];
            sigmas[t] = MathF.Sqrt((1f - a) / a);
        }
        return sigmas;
    }

    private static Tensor BetasTensor(SchedulerConfig c)
    {
        var steps = c.NumTrainTimesteps;
        var betas = c.TrainedBetas is { } trained
            ? torch.tensor(trained.ToArray(), ScalarType.Float64).to(ScalarType.Float32)
            : c.BetaSchedule switch
            {
                BetaSchedule.Linear => torch.linspace(c.BetaStart, c.BetaEnd, steps, ScalarType.Float32),
                // "very specific to the latent diffusion model": linear in √β, then squared (float32)
                BetaSchedule.ScaledLinear => torch.linspace(Math.Pow(c.BetaStart, 0.5), Math.Pow(c.BetaEnd, 0.5), steps, ScalarType.Float32).pow(2),
                BetaSchedule.SquaredCosCapV2 => torch.tensor(CosineBetas(steps), ScalarType.Float64).to(ScalarType.Float32),
                BetaSchedule.Sigmoid when c.ClassName == SchedulerClasses.Ddpm =>
                    torch.sigmoid(torch.linspace(-6, 6, steps, ScalarType.Float32)) * (c.BetaEnd - c.BetaStart) + c.BetaStart,
                _ => throw new NotSupportedException($"beta_schedule '{c.BetaSchedule}' is not implemented for {c.ClassName}."),
            };
        return c.RescaleBetasZeroSnr ? RescaleZeroTerminalSnr(betas) : betas;
    }

    /// <summary>betas_for_alpha_bar (GLIDE cosine schedule, max β 0.999), computed in double like the Python loop.</summary>
    private static double[] CosineBetas(int steps)
    {
        static double AlphaBar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);
        var betas = new double[steps];
        for (var i = 0; i < steps; i++)
            betas[i] = Math.Min(1 - AlphaBar((i + 1) / (double)steps) / AlphaBar(i / (double)steps), 0.999);
        return betas;
    }

    /// <summary>Zero terminal SNR (arXiv:2305.08891, Algorithm 1), on float32 tensors like diffusers.</summary>
    private static Tensor RescaleZeroTerminalSnr(Tensor betas)
    {
        var alphas_bar_sqrt = torch.cumprod(1.0 - betas, 0).sqrt();
        var alphas_bar_sqrt_0 = alphas_bar_sqrt[0].clone();
        var alphas_bar_sqrt_T = alphas_bar_sqrt[-1].clone();
        alphas_bar_sqrt = (alphas_bar_sqrt - alphas_bar_sqrt_T) * (alphas_bar_sqrt_0 / (alphas_bar_sqrt_0 - alphas_bar_sqrt_T));
        var alphas_bar = alphas_bar_sqrt.pow(2);
        var alphas = torch.cat([alphas_bar[..1], alphas_bar[1..] / alphas_bar[..^1]]);
        return 1 - alphas;
    }

    private static double[] ToDoubles(Tensor t) =>
        t.to(ScalarType.Float32).data<float>().Select(v => (double)v).ToArray();
}
