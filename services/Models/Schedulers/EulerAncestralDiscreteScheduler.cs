using static TorchSharp.torch;

namespace MultiModal.Models.Schedulers;

// Port of diffusers v0.25.1 schedulers/scheduling_euler_ancestral_discrete.py (EulerAncestralDiscreteScheduler), the
// k-diffusion "Euler a" sampler: an Euler step down to σ_down followed by fresh noise of std σ_up, where
// σ_up = √(σ_to²(σ_from² − σ_to²)/σ_from²) and σ_down = √(σ_to² − σ_up²) (Karras et al. 2022 / k-diffusion
// get_ancestral_step, η = 1). One N(0, 1) draw per step, shaped like the model output, in call order; the scalar
// σ arithmetic is float32 like diffusers' tensors.

/// <summary>Euler ancestral ("Euler a").</summary>
public sealed class EulerAncestralDiscreteScheduler : IScheduler
{
    private readonly double[] _trainingSigmas;
    private double[] _sigmas = [];
    private int? _stepIndex;

    /// <summary>Builds the training schedule from a config resolved for <c>EulerAncestralDiscreteScheduler</c>.</summary>
    public EulerAncestralDiscreteScheduler(SchedulerConfig config)
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
    public double InitNoiseSigma => SigmaStepping.InitNoiseSigma(Config, _sigmas, _trainingSigmas);

    public void SetTimesteps(int numInferenceSteps)
    {
        TimestepSpacings.CheckStepCount(Config, numInferenceSteps);
        NumInferenceSteps = numInferenceSteps;
        var timesteps = TimestepSpacings.Float32(Config, numInferenceSteps);
        Timesteps = timesteps;
        _sigmas = [.. timesteps.Select(t => NumpyMath.ToFloat32(NumpyMath.Interp(t, _trainingSigmas))), 0.0];
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
        var sigma = (float)_sigmas[_stepIndex.Value];

        // upcast to avoid precision issues when computing prev_sample
        var x = sample.to(ScalarType.Float32);

        // 1. x̂₀ from the σ-scaled prediction
        var pred_original_sample = SigmaStepping.PredOriginal(Config.PredictionType, modelOutput, x, sigma, sigma);

        // 2. split the move from σ_from to σ_to into a deterministic part (to σ_down) and fresh noise (σ_up)
        var sigma_from = sigma;
        var sigma_to = (float)_sigmas[_stepIndex.Value + 1];
        var sigma_up = MathF.Sqrt(sigma_to * sigma_to * (sigma_from * sigma_from - sigma_to * sigma_to) / (sigma_from * sigma_from));
        var sigma_down = MathF.Sqrt(sigma_to * sigma_to - sigma_up * sigma_up);

        // 3. Euler step along d = (x − x̂₀)/σ to σ_down, then add σ_up·z
        var derivative = (x - pred_original_sample) / sigma;
        var dt = sigma_down - sigma;
        var prev_sample = x + derivative * dt;
        var z = SchedulerExtensions.DrawNoise(noise, modelOutput);
        prev_sample = (prev_sample + z * sigma_up).to(modelOutput.dtype);

        _stepIndex++;
        return new SchedulerStepOutput(prev_sample, pred_original_sample);
    }

    public Tensor AddNoise(Tensor original, Tensor noise, double timestep) =>
        original + noise * (float)_sigmas[ScheduleLookups.UniqueStepIndex(Timesteps, timestep)];
}
