using static TorchSharp.torch;

namespace MultiModal.Models.Schedulers;

// Port of diffusers v0.25.1 schedulers/scheduling_lms_discrete.py (LMSDiscreteScheduler): linear multistep on the
// probability-flow ODE in σ (k-diffusion sample_lms), order 4 by default. x_{i+1} = x_i + Σ_j c_j·d_{i−j} with
// d = (x − x̂₀)/σ and c_j the integral of the Lagrange basis polynomial over [σ_i, σ_{i+1}] (LmsCoefficients: exact
// Gauss–Legendre instead of scipy.integrate.quad). Karras sigmas keep diffusers' float64 timesteps.

/// <summary>LMS (linear multistep, Karras/k-diffusion).</summary>
public sealed class LmsDiscreteScheduler : SigmaSchedulerBase
{
    private readonly List<Tensor> _derivatives = [];

    /// <summary>Builds the training schedule from a config resolved for <c>LMSDiscreteScheduler</c>.</summary>
    /// <param name="config">The resolved config.</param>
    /// <param name="order">The multistep order (diffusers' <c>step(..., order=4)</c> default).</param>
    public LmsDiscreteScheduler(SchedulerConfig config, int order = 4)
        : base(config, NoiseSchedules.TrainingSigmas(NoiseSchedules.AlphasCumprod(config)))
    {
        if (order < 1 || order > LmsCoefficients.MaxOrder)
            throw new ArgumentOutOfRangeException(nameof(order), order, $"LMS order must be in [1, {LmsCoefficients.MaxOrder}].");
        LmsOrder = order;
    }

    /// <summary>How many past derivatives each step combines.</summary>
    public int LmsOrder { get; }

    public override ScalarType TimestepDtype => Config.UseKarrasSigmas ? ScalarType.Float64 : ScalarType.Float32;

    private protected override (IReadOnlyList<double> Timesteps, double[] Sigmas) Schedule(int numInferenceSteps)
    {
        var (timesteps, sigmas) = SpacedSigmas(numInferenceSteps);
        if (Config.UseKarrasSigmas)
        {
            var logSigmas = SigmaSchedules.LogSigmas(TrainingSigmas);
            sigmas = SigmaSchedules.Karras(sigmas[^1], sigmas[0], numInferenceSteps);
            timesteps = sigmas.Select(s => SigmaSchedules.SigmaToT(s, logSigmas)).ToArray();
        }
        _derivatives.Clear();
        return (timesteps, sigmas);
    }

    public override SchedulerStepOutput Step(Tensor modelOutput, double timestep, Tensor sample, INoiseSource? noise = null)
    {
        var i = BeginStep(timestep);
        var sigma = (float)Sigmas[i];

        // 1. x̂₀ from the σ-scaled prediction
        var pred_original_sample = SigmaStepping.PredOriginal(Config.PredictionType, modelOutput, sample, sigma, sigma);

        // 2. ODE derivative, keeping the last `order` of them
        _derivatives.Add((sample - pred_original_sample) / sigma);
        if (_derivatives.Count > LmsOrder) _derivatives.RemoveAt(0);

        // 3. LMS coefficients (fewer while the history fills up)
        var order = Math.Min(i + 1, LmsOrder);
        var lms_coeffs = Enumerable.Range(0, order).Select(j => LmsCoefficients.Coefficient(Sigmas, order, i, j)).ToArray();

        // 4. x_{i+1} = x_i + Σ_j c_j·d_{i−j}  (newest derivative pairs with c_0)
        //    (summed first, then added to x, in diffusers' order). Python's zip stops at the shorter list: a run that
        //    starts mid-schedule (img2img) has fewer derivatives than `order` and uses only the first coefficients.
        var sum = lms_coeffs[0] * _derivatives[^1];
        for (var j = 1; j < Math.Min(order, _derivatives.Count); j++)
            sum = sum + lms_coeffs[j] * _derivatives[_derivatives.Count - 1 - j];
        var prev_sample = sample + sum;

        EndStep();
        return new SchedulerStepOutput(prev_sample, pred_original_sample);
    }
}
