using static TorchSharp.torch;

namespace MultiModal.Models.Schedulers;

/// <summary>
/// What the σ-space schedulers (Euler, Euler a, LMS) share, as diffusers repeats it with "Copied from": training σ,
/// inference σ (float32, with a final 0), the step index found from the first timestep of a run and advanced by each
/// step, the model input scaled by 1/√(σ² + 1), and noise added as x₀ + σ·ε.
/// </summary>
public abstract class SigmaSchedulerBase : IScheduler
{
    private double[] _sigmas = [];
    private int? _stepIndex;

    private protected SigmaSchedulerBase(SchedulerConfig config, double[] trainingSigmas)
    {
        Config = config;
        TrainingSigmas = trainingSigmas;
    }

    private protected double[] TrainingSigmas { get; }

    public SchedulerConfig Config { get; }
    public int Order => 1;
    public IReadOnlyList<double> Timesteps { get; private set; } = [];
    public virtual ScalarType TimestepDtype => ScalarType.Float32;
    public IReadOnlyList<double> Sigmas => _sigmas;
    public int NumInferenceSteps { get; private set; }

    /// <summary>max σ for linspace/trailing spacing; √(σ_max² + 1) for leading (float32).</summary>
    public double InitNoiseSigma => SigmaStepping.InitNoiseSigma(Config, _sigmas, TrainingSigmas);

    public void SetTimesteps(int numInferenceSteps)
    {
        TimestepSpacings.CheckStepCount(Config, numInferenceSteps);
        NumInferenceSteps = numInferenceSteps;
        var (timesteps, sigmas) = Schedule(numInferenceSteps);
        Timesteps = timesteps;
        _sigmas = [.. sigmas.Select(NumpyMath.ToFloat32), 0.0];
        _stepIndex = null;
    }

    /// <summary>
    /// The inference timesteps and their σ (before the float32 rounding and the final 0); also resets a scheduler's
    /// own state for a new run.
    /// </summary>
    private protected abstract (IReadOnlyList<double> Timesteps, double[] Sigmas) Schedule(int numInferenceSteps);

    /// <summary>σ interpolated at each spaced timestep, as every σ scheduler starts.</summary>
    private protected (double[] Timesteps, double[] Sigmas) SpacedSigmas(int numInferenceSteps)
    {
        var timesteps = TimestepSpacings.Float32(Config, numInferenceSteps);
        return (timesteps, timesteps.Select(t => NumpyMath.Interp(t, TrainingSigmas)).ToArray());
    }

    public Tensor ScaleModelInput(Tensor sample, double timestep) =>
        SigmaStepping.ScaleModelInput(sample, (float)_sigmas[StepIndexAt(timestep)]);

    public abstract SchedulerStepOutput Step(Tensor modelOutput, double timestep, Tensor sample, INoiseSource? noise = null);

    public Tensor AddNoise(Tensor original, Tensor noise, double timestep) =>
        original + noise * (float)_sigmas[ScheduleLookups.UniqueStepIndex(Timesteps, timestep)];

    /// <summary>The index of the current step: found from the first timestep of a run, then advanced by <see cref="EndStep"/>.</summary>
    private protected int StepIndexAt(double timestep) => _stepIndex ??= ScheduleLookups.InitialStepIndex(Timesteps, timestep);

    /// <summary><see cref="StepIndexAt"/> for a step, once <see cref="SetTimesteps"/> has run.</summary>
    private protected int BeginStep(double timestep)
    {
        if (NumInferenceSteps == 0)
            throw new InvalidOperationException("Call SetTimesteps before Step.");
        return StepIndexAt(timestep);
    }

    private protected void EndStep() => _stepIndex++;
}
