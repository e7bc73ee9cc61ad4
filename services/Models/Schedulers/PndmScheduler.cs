using static TorchSharp.torch;

namespace MultiModal.Models.Schedulers;

// Port of diffusers v0.25.1 schedulers/scheduling_pndm.py (PNDMScheduler) with skip_prk_steps = true, i.e. the PLMS
// (pseudo linear multistep) sampler Stable Diffusion uses; the Runge–Kutta warm-up (skip_prk_steps = false) is not
// ported. Paper: https://arxiv.org/abs/2202.09778 (PNDM), eq. (9) for the transfer function φ, eq. (12) for PLMS.
// The second entry of the timestep list repeats the first step's target: step 1 re-evaluates the model there and
// averages with step 0's output (a second-order start), which is why 4 steps run the model 5 times.

/// <summary>PLMS (Liu et al. 2022): the pipeline default of SD 1.x.</summary>
public sealed class PndmScheduler : AlphaSchedulerBase
{
    private readonly float _finalAlphaCumprod;
    private readonly List<Tensor> _ets = [];
    private Tensor? _curSample;
    private int _counter;

    /// <summary>Builds the training schedule from a config resolved for <c>PNDMScheduler</c>.</summary>
    public PndmScheduler(SchedulerConfig config) : base(config)
    {
        if (!config.SkipPrkSteps)
            throw new NotSupportedException("PNDMScheduler with skip_prk_steps = false (Runge–Kutta warm-up) is not supported.");
        _finalAlphaCumprod = config.SetAlphaToOne ? 1f : (float)AlphasCumprod[0];
    }

    private protected override IReadOnlyList<double> Schedule(int numInferenceSteps)
    {
        var T = Config.NumTrainTimesteps;
        // _timesteps ascending, as diffusers builds them before the PLMS reordering
        var ascending = Config.TimestepSpacing switch
        {
            TimestepSpacing.Linspace => NumpyMath.Linspace(0, T - 1, numInferenceSteps).Select(NumpyMath.Round).ToArray(),
            TimestepSpacing.Leading => Enumerable.Range(0, numInferenceSteps)
                .Select(i => (double)(i * (T / numInferenceSteps) + Config.StepsOffset)).ToArray(),
            TimestepSpacing.Trailing => NumpyMath.Arange(T, 0, -(T / (double)numInferenceSteps))
                .Select(t => NumpyMath.Round(t) - 1).Reverse().ToArray(),
            _ => throw new NotSupportedException($"timestep_spacing {Config.TimestepSpacing}"),
        };
        // plms_timesteps = concat(_ts[:-1], _ts[-2:-1], _ts[-1:])[::-1]: the second-to-last ascending entry is repeated
        var plms = new List<double>(ascending[..^1]);
        if (ascending.Length >= 2) plms.Add(ascending[^2]);
        plms.Add(ascending[^1]);
        plms.Reverse();
        _ets.Clear();
        _curSample = null;
        _counter = 0;
        return plms;
    }

    public override SchedulerStepOutput Step(Tensor modelOutput, double timestep, Tensor sample, INoiseSource? noise = null)
    {
        var t = TrainIndex(timestep);
        var stepRatio = Config.NumTrainTimesteps / NumInferenceSteps;

        var prevTimestep = t - stepRatio;
        if (_counter != 1)
        {
            // keep the last 3 outputs plus the new one
            if (_ets.Count > 3) _ets.RemoveRange(0, _ets.Count - 3);
            _ets.Add(modelOutput);
        }
        else
        {
            // the repeated timestep: redo the step from t + T/N to t with the averaged output
            prevTimestep = t;
            t += stepRatio;
        }

        // linear multistep combination of the stored ε (Adams–Bashforth coefficients, PNDM eq. 12)
        Tensor model_output;
        if (_ets.Count == 1 && _counter == 0)
        {
            model_output = modelOutput;
            _curSample = sample;
        }
        else if (_ets.Count == 1 && _counter == 1)
        {
            model_output = (modelOutput + _ets[^1]) / 2;
            sample = _curSample!;
            _curSample = null;
        }
        else if (_ets.Count == 2)
            model_output = (3 * _ets[^1] - _ets[^2]) / 2;
        else if (_ets.Count == 3)
            model_output = (23 * _ets[^1] - 16 * _ets[^2] + 5 * _ets[^3]) / 12;
        else
            model_output = (1.0 / 24) * (55 * _ets[^1] - 59 * _ets[^2] + 37 * _ets[^3] - 9 * _ets[^4]);

        var prev_sample = PrevSample(sample, t, prevTimestep, model_output);
        _counter++;
        return new SchedulerStepOutput(prev_sample, null);
    }

    /// <summary>PNDM's transfer φ(x_t, ε, t, t') (eq. 9): x_t' = √(ᾱ_t'/ᾱ_t)·x_t − (ᾱ_t' − ᾱ_t)·ε / (ᾱ_t√(1−ᾱ_t') + √(ᾱ_t(1−ᾱ_t)ᾱ_t')).</summary>
    private Tensor PrevSample(Tensor sample, int timestep, int prevTimestep, Tensor model_output)
    {
        var alpha_prod_t = (float)AlphasCumprod[timestep];
        var alpha_prod_t_prev = prevTimestep >= 0 ? (float)AlphasCumprod[prevTimestep] : _finalAlphaCumprod;
        var beta_prod_t = 1f - alpha_prod_t;
        var beta_prod_t_prev = 1f - alpha_prod_t_prev;

        if (Config.PredictionType == PredictionType.VPrediction)
            model_output = MathF.Sqrt(alpha_prod_t) * model_output + MathF.Sqrt(beta_prod_t) * sample;

        var sample_coeff = MathF.Sqrt(alpha_prod_t_prev / alpha_prod_t);
        var model_output_denom_coeff = alpha_prod_t * MathF.Sqrt(beta_prod_t_prev)
            + MathF.Sqrt(alpha_prod_t * beta_prod_t * alpha_prod_t_prev);
        return sample_coeff * sample - (alpha_prod_t_prev - alpha_prod_t) * model_output / model_output_denom_coeff;
    }
}
