using static TorchSharp.torch;

namespace MultiModal.Models.Schedulers;

/// <summary>
/// What one denoising step produced: the sample for the next timestep and, where the method has it, the model's
/// current estimate of the clean sample x̂₀ (what previews show).
/// </summary>
public sealed record SchedulerStepOutput(Tensor PrevSample, Tensor? PredOriginalSample);

/// <summary>
/// diffusers' scheduler contract (0.25.1). Call <see cref="SetTimesteps"/>, start from noise × <see cref="InitNoiseSigma"/>,
/// then for each t in <see cref="Timesteps"/>: model input = <see cref="ScaleModelInput"/>(x, t), model output = UNet,
/// x = <see cref="Step"/>(output, t, x).PrevSample. Schedulers are stateful (multistep history, step index): one
/// instance per generation, used from one thread.
/// </summary>
public interface IScheduler
{
    /// <summary>The resolved configuration.</summary>
    SchedulerConfig Config { get; }

    /// <summary>diffusers' <c>scheduler.order</c> (1 for every class here), used by img2img's timestep slice.</summary>
    int Order { get; }

    /// <summary>
    /// The timesteps to run, in order, after <see cref="SetTimesteps"/>. Integer-valued for DDIM, PNDM, DDPM and
    /// DPM-Solver; float32 values for Euler, Euler a and LMS (see <see cref="TimestepDtype"/>). PNDM repeats one.
    /// </summary>
    IReadOnlyList<double> Timesteps { get; }

    /// <summary>dtype of diffusers' <c>scheduler.timesteps</c> (Int64 or Float32): what to pass the UNet.</summary>
    ScalarType TimestepDtype { get; }

    /// <summary>σ per timestep plus the final one, for σ-based schedulers (empty for DDIM, PNDM, DDPM).</summary>
    IReadOnlyList<double> Sigmas { get; }

    /// <summary>Standard deviation of the initial noise: the pipeline multiplies its N(0, 1) latents by this.</summary>
    double InitNoiseSigma { get; }

    /// <summary>The <c>num_inference_steps</c> last passed to <see cref="SetTimesteps"/> (0 before).</summary>
    int NumInferenceSteps { get; }

    /// <summary>Chooses the timesteps for <paramref name="numInferenceSteps"/> steps and resets all per-run state.</summary>
    void SetTimesteps(int numInferenceSteps);

    /// <summary>The model input for timestep <paramref name="timestep"/> (σ-schedulers divide by √(σ² + 1)).</summary>
    Tensor ScaleModelInput(Tensor sample, double timestep);

    /// <summary>
    /// One reverse-diffusion step from <paramref name="timestep"/> (one of <see cref="Timesteps"/>, in order).
    /// <paramref name="noise"/> supplies the draws of stochastic steps; when null those use the global generator.
    /// </summary>
    SchedulerStepOutput Step(Tensor modelOutput, double timestep, Tensor sample, INoiseSource? noise = null);

    /// <summary>Forward diffusion q(x_t | x₀): noises <paramref name="original"/> to <paramref name="timestep"/> (img2img).</summary>
    Tensor AddNoise(Tensor original, Tensor noise, double timestep);
}

/// <summary>Conveniences over <see cref="IScheduler"/>.</summary>
public static class SchedulerExtensions
{
    /// <summary><see cref="IScheduler.Step"/> drawing noise from a CPU generator, as diffusers' <c>step(..., generator=g)</c>.</summary>
    public static SchedulerStepOutput Step(this IScheduler scheduler, Tensor modelOutput, double timestep, Tensor sample, Generator? generator) =>
        scheduler.Step(modelOutput, timestep, sample, generator is null ? null : new GeneratorNoise(generator));

    /// <summary>One draw from <paramref name="noise"/>, or from the global generator on the sample's device.</summary>
    internal static Tensor DrawNoise(INoiseSource? noise, Tensor like) =>
        noise?.Randn(like.shape, like.dtype, like.device) ?? randn(like.shape, like.dtype, like.device);
}
