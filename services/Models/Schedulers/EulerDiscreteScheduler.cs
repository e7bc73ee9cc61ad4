using static TorchSharp.torch;

namespace MultiModal.Models.Schedulers;

// Port of diffusers v0.25.1 schedulers/scheduling_euler_discrete.py (EulerDiscreteScheduler): Algorithm 2 of Karras et
// al. 2022 (https://arxiv.org/abs/2206.00364) with s_churn = 0 (plain Euler on the probability-flow ODE), "linear"
// interpolation, discrete timesteps, optional Karras sigmas. Notation: σ = sigmas[i]; x = sample in σ-space
// (x = x₀ + σ·ε); the UNet sees x/√(σ² + 1). σ and the scalar coefficients are float32 like diffusers' tensors.
// diffusers draws (and discards) one noise tensor per step for s_churn; it is drawn here too when a noise source is
// given, so a shared generator advances exactly as in diffusers.

/// <summary>Euler (Karras et al. 2022, Algorithm 2, deterministic).</summary>
public sealed class EulerDiscreteScheduler : IScheduler
{
    private readonly double[] _trainingSigmas;
    private double[] _sigmas = [];
    private int? _stepIndex;

    /// <summary>Builds the training schedule from a config resolved for <c>EulerDiscreteScheduler</c>.</summary>
    public EulerDiscreteScheduler(SchedulerConfig config)
    {
        Config = config;
        _trainingSigmas = NoiseSchedules.EulerTrainingSigmas(config);
    }

    public SchedulerConfig Config { get; }
    public int Order => 1;
    public IReadOnlyList<double> Timesteps { get; private set; } = [];
    public ScalarType TimestepDtype => ScalarType.Float32;
    public IReadOnlyList<double> Sigmas => _sigmas;
    public int NumInferenceSteps { get; private set; }

    /// <summary>max σ for linspace/trailing spacing; √(σ_max² + 1) for leading (float32).</summary>
    public double InitNoiseSigma => SigmaStepping.InitNoiseSigma(Config, _sigmas, _trainingSigmas);

    public void SetTimesteps(int numInferenceSteps)
    {
        TimestepSpacings.CheckStepCount(Config, numInferenceSteps);
        NumInferenceSteps = numInferenceSteps;
        var timesteps = TimestepSpacings.Float32(Config, numInferenceSteps);
        var sigmas = timesteps.Select(t => NumpyMath.Interp(t, _trainingSigmas)).ToArray();
        if (Config.UseKarrasSigmas)
        {
            var logSigmas = SigmaSchedules.LogSigmas(_trainingSigmas);
            sigmas = SigmaSchedules.Karras(Config.SigmaMin ?? sigmas[^1], Config.SigmaMax ?? sigmas[0], numInferenceSteps);
            timesteps = sigmas.Select(s => NumpyMath.ToFloat32(SigmaSchedules.SigmaToT(s, logSigmas))).ToArray();
        }
        Timesteps = timesteps;
        _sigmas = [.. sigmas.Select(NumpyMath.ToFloat32), 0.0];
        _stepIndex = null;
    }

    public Tensor ScaleModelInput(Tensor sample, double timestep)
    {
        _stepIndex ??= ScheduleLookups.InitialStepIndex(Timesteps, timestep);
        return SigmaStepping.ScaleModelInput(sample, (float)_sigmas[_stepIndex.Value]);
    }

    public SchedulerStepOutput Step(Tensor modelOutput, double timestep, Tensor sample, INoiseSource? noise = null)
    {
        if (NumInferenceSteps == 0)
            throw new InvalidOperationException("Call SetTimesteps before Step.");
        _stepIndex ??= ScheduleLookups.InitialStepIndex(Timesteps, timestep);

        // upcast to avoid precision issues when computing prev_sample
        var x = sample.to(ScalarType.Float32);
        var sigma = (float)_sigmas[_stepIndex.Value];
        // s_churn = 0 ⇒ γ = 0 and σ̂ = σ; the churn noise is drawn but unused, as in diffusers
        if (noise is not null) noise.Randn(modelOutput.shape, modelOutput.dtype, modelOutput.device).Dispose();
        var sigma_hat = sigma;

        // 1. x̂₀ from the σ-scaled prediction
        var pred_original_sample = SigmaStepping.PredOriginal(Config.PredictionType, modelOutput, x, sigma_hat, sigma);

        // 2. ODE derivative d = (x − x̂₀)/σ̂ and Euler step to σ_{i+1}
        var derivative = (x - pred_original_sample) / sigma_hat;
        var dt = (float)_sigmas[_stepIndex.Value + 1] - sigma_hat;
        var prev_sample = (x + derivative * dt).to(modelOutput.dtype);

        _stepIndex++;
        return new SchedulerStepOutput(prev_sample, pred_original_sample);
    }

    public Tensor AddNoise(Tensor original, Tensor noise, double timestep) =>
        original + noise * (float)_sigmas[ScheduleLookups.UniqueStepIndex(Timesteps, timestep)];
}
