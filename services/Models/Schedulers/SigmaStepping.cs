using static TorchSharp.torch;

namespace MultiModal.Models.Schedulers;

/// <summary>
/// Pieces the σ-space schedulers (Euler, Euler a, LMS) share verbatim in diffusers 0.25.1, with the float32 scalar
/// arithmetic of diffusers' 0-dim tensors.
/// </summary>
internal static class SigmaStepping
{
    /// <summary>
    /// <c>init_noise_sigma</c>: max σ for linspace/trailing spacing, √(σ_max² + 1) for leading. Before
    /// <c>set_timesteps</c> diffusers uses the training sigmas.
    /// </summary>
    public static double InitNoiseSigma(SchedulerConfig config, IReadOnlyList<double> sigmas, IReadOnlyList<double> trainingSigmas)
    {
        var max = (float)(sigmas.Count > 0 ? sigmas.Max() : trainingSigmas.Max());
        return config.TimestepSpacing is TimestepSpacing.Linspace or TimestepSpacing.Trailing ? max : MathF.Sqrt(max * max + 1f);
    }

    /// <summary>x / √(σ² + 1): the UNet was trained on unit-variance inputs.</summary>
    public static Tensor ScaleModelInput(Tensor sample, float sigma) => sample / MathF.Sqrt(sigma * sigma + 1f);

    /// <summary>
    /// x̂₀ from the model output. ε: x − σ̂·ε. v (Karras' c_out/c_skip form): v·(−σ/√(σ²+1)) + x/(σ²+1).
    /// </summary>
    public static Tensor PredOriginal(PredictionType predictionType, Tensor modelOutput, Tensor sample, float sigmaHat, float sigma) =>
        predictionType == PredictionType.Epsilon
            ? sample - sigmaHat * modelOutput
            : modelOutput * (-sigma / MathF.Sqrt(sigma * sigma + 1f)) + sample / (sigma * sigma + 1f);
}
