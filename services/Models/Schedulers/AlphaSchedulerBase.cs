using static TorchSharp.torch;

namespace MultiModal.Models.Schedulers;

/// <summary>
/// What the ᾱ-space schedulers (DDIM, DDPM, PNDM) share, as diffusers repeats it with "Copied from": ᾱ from the
/// config, integer timesteps, no σ, unscaled model input, and noise added as √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε.
/// </summary>
public abstract class AlphaSchedulerBase : IScheduler
{
    private protected AlphaSchedulerBase(SchedulerConfig config)
    {
        Config = config;
        AlphasCumprod = NoiseSchedules.AlphasCumprod(config);
    }

    /// <summary>ᾱ_t for every training timestep t.</summary>
    private protected double[] AlphasCumprod { get; }

    public SchedulerConfig Config { get; }
    public int Order => 1;
    public IReadOnlyList<double> Timesteps { get; private set; } = [];
    public ScalarType TimestepDtype => ScalarType.Int64;
    public IReadOnlyList<double> Sigmas => [];
    public double InitNoiseSigma => 1.0;
    public int NumInferenceSteps { get; private set; }

    public void SetTimesteps(int numInferenceSteps)
    {
        TimestepSpacings.CheckStepCount(Config, numInferenceSteps);
        NumInferenceSteps = numInferenceSteps;
        Timesteps = Schedule(numInferenceSteps);
    }

    /// <summary>The inference timesteps, descending; also resets a scheduler's own state for a new run.</summary>
    private protected virtual IReadOnlyList<double> Schedule(int numInferenceSteps) => TimestepSpacings.Integer(Config, numInferenceSteps);

    public Tensor ScaleModelInput(Tensor sample, double timestep) => sample;

    public abstract SchedulerStepOutput Step(Tensor modelOutput, double timestep, Tensor sample, INoiseSource? noise = null);

    public Tensor AddNoise(Tensor original, Tensor noise, double timestep) =>
        ScheduleLookups.AddNoiseAlpha(AlphasCumprod, original, noise, timestep);

    /// <summary>The training index of <paramref name="timestep"/>, once <see cref="SetTimesteps"/> has run.</summary>
    private protected int TrainIndex(double timestep)
    {
        if (NumInferenceSteps == 0)
            throw new InvalidOperationException("Call SetTimesteps before Step.");
        return ScheduleLookups.TrainIndex(timestep, Config.NumTrainTimesteps);
    }
}
