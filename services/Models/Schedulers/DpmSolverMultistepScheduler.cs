using static TorchSharp.torch;

namespace MultiModal.Models.Schedulers;

// Port of diffusers v0.25.1 schedulers/scheduling_dpmsolver_multistep.py (DPMSolverMultistepScheduler) for
// solver_order 1–2, algorithm_type "dpmsolver++" (DPM-Solver++, https://arxiv.org/abs/2211.01095, data prediction)
// and "dpmsolver" (DPM-Solver, https://arxiv.org/abs/2206.00927, noise prediction), solver_type "midpoint" / "heun",
// linspace/leading/trailing spacing and Karras sigmas; not ported: SDE variants, third order, Lu lambdas,
// thresholding, learned variance. "DPM++ 2M" = dpmsolver++, order 2, midpoint; "DPM++ 2M Karras" adds Karras σ.
// Notation: σ = sigmas[i] (σ-space), α_t = 1/√(σ²+1), σ_t = σ·α_t, λ = log α_t − log σ_t, h = λ_t − λ_s.
// Scalars are float32 like diffusers' 0-dim tensors.

/// <summary>DPM-Solver(++) multistep.</summary>
public sealed class DpmSolverMultistepScheduler : IScheduler
{
    private readonly double[] _alphasCumprod;
    private readonly double[] _trainingSigmas;
    private readonly Tensor?[] _modelOutputs;
    private double[] _sigmas = [];
    private int _lowerOrderNums;
    private int? _stepIndex;

    /// <summary>Builds the training schedule from a config resolved for <c>DPMSolverMultistepScheduler</c>.</summary>
    public DpmSolverMultistepScheduler(SchedulerConfig config)
    {
        if (config.SolverOrder is < 1 or > 2)
            throw new NotSupportedException($"solver_order {config.SolverOrder} is not supported; expected 1 or 2.");
        // diffusers maps the deprecated names "deis" → "dpmsolver++" and "logrho"/"bh1"/"bh2" → "midpoint"
        var algorithm = config.AlgorithmType == "deis" ? "dpmsolver++" : config.AlgorithmType;
        var solver = config.SolverType is "logrho" or "bh1" or "bh2" ? "midpoint" : config.SolverType;
        if (algorithm is not ("dpmsolver++" or "dpmsolver"))
            throw new NotSupportedException($"algorithm_type '{config.AlgorithmType}' is not supported; expected 'dpmsolver++' or 'dpmsolver'.");
        if (solver is not ("midpoint" or "heun"))
            throw new NotSupportedException($"solver_type '{config.SolverType}' is not supported; expected 'midpoint' or 'heun'.");
        if (config.VarianceType is "learned" or "learned_range")
            throw new NotSupportedException($"variance_type '{config.VarianceType}' is not supported.");
        Config = config with { AlgorithmType = algorithm, SolverType = solver };
        _alphasCumprod = NoiseSchedules.AlphasCumprod(config);
        _trainingSigmas = NoiseSchedules.TrainingSigmas(_alphasCumprod);
        _modelOutputs = new Tensor?[config.SolverOrder];
    }

    public SchedulerConfig Config { get; }
    public int Order => 1;
    public IReadOnlyList<double> Timesteps { get; private set; } = [];
    public ScalarType TimestepDtype => ScalarType.Int64;
    public IReadOnlyList<double> Sigmas => _sigmas;
    public double InitNoiseSigma => 1.0;
    public int NumInferenceSteps { get; private set; }

    public void SetTimesteps(int numInferenceSteps)
    {
        TimestepSpacings.CheckStepCount(Config, numInferenceSteps);
        var T = Config.NumTrainTimesteps;
        var lastTimestep = T - ClippedIndex();
        double[] timesteps = Config.TimestepSpacing switch
        {
            TimestepSpacing.Linspace => NumpyMath.Linspace(0, lastTimestep - 1, numInferenceSteps + 1)
                .Select(NumpyMath.Round).Reverse().SkipLast(1).ToArray(),
            TimestepSpacing.Leading => Enumerable.Range(0, numInferenceSteps + 1).Reverse().SkipLast(1)
                .Select(i => (double)(i * (lastTimestep / (numInferenceSteps + 1)) + Config.StepsOffset)).ToArray(),
            TimestepSpacing.Trailing => NumpyMath.Arange(lastTimestep, 0, -(T / (double)numInferenceSteps))
                .Select(t => NumpyMath.Round(t) - 1).ToArray(),
            _ => throw new NotSupportedException($"timestep_spacing {Config.TimestepSpacing}"),
        };

        double[] sigmas;
        if (Config.UseKarrasSigmas)
        {
            var logSigmas = SigmaSchedules.LogSigmas(_trainingSigmas);
            var karras = SigmaSchedules.Karras(_trainingSigmas[0], _trainingSigmas[^1], numInferenceSteps);
            timesteps = karras.Select(s => NumpyMath.Round(SigmaSchedules.SigmaToT(s, logSigmas))).ToArray();
            // the final σ repeats the last one (no step to σ = 0 in λ-space)
            sigmas = [.. karras, karras[^1]];
        }
        else
        {
            var a0 = (float)_alphasCumprod[0];
            var sigmaLast = MathF.Sqrt((1f - a0) / a0);
            sigmas = [.. timesteps.Select(t => NumpyMath.Interp(t, _trainingSigmas)), sigmaLast];
        }

        Timesteps = timesteps;
        _sigmas = sigmas.Select(NumpyMath.ToFloat32).ToArray();
        NumInferenceSteps = timesteps.Length;
        Array.Clear(_modelOutputs);
        _lowerOrderNums = 0;
        _stepIndex = null;
    }

    public Tensor ScaleModelInput(Tensor sample, double timestep) => sample;

    public SchedulerStepOutput Step(Tensor modelOutput, double timestep, Tensor sample, INoiseSource? noise = null)
    {
        if (NumInferenceSteps == 0)
            throw new InvalidOperationException("Call SetTimesteps before Step.");
        _stepIndex ??= ScheduleLookups.InitialStepIndex(Timesteps, timestep, lastIfMissing: true);
        var i = _stepIndex.Value;

        // improve numerical stability for small numbers of steps: first order at the end (diffusers'
        // lower_order_second only chooses between orders 2 and 3, and order 3 is not ported)
        var lowerOrderFinal = i == Timesteps.Count - 1 && (Config.EulerAtFinal || (Config.LowerOrderFinal && Timesteps.Count < 15));

        var converted = ConvertModelOutput(modelOutput, sample, i);
        for (var k = 0; k < _modelOutputs.Length - 1; k++) _modelOutputs[k] = _modelOutputs[k + 1];
        _modelOutputs[^1] = converted;

        var prev_sample = Config.SolverOrder == 1 || _lowerOrderNums < 1 || lowerOrderFinal
            ? FirstOrderUpdate(converted, sample, i)
            : SecondOrderUpdate(sample, i);

        if (_lowerOrderNums < Config.SolverOrder) _lowerOrderNums++;
        _stepIndex++;
        // x̂₀ is what dpmsolver++ integrates; diffusers does not return it, but previews need it
        var predOriginal = Config.AlgorithmType == "dpmsolver++" ? converted : DataPrediction(converted, sample, i);
        return new SchedulerStepOutput(prev_sample, predOriginal);
    }

    /// <summary>α_t x₀ + σ_t ε at the σ of <paramref name="timestep"/> (DPM-Solver's own index lookup).</summary>
    public Tensor AddNoise(Tensor original, Tensor noise, double timestep)
    {
        var sigma = (float)_sigmas[ScheduleLookups.InitialStepIndex(Timesteps, timestep, lastIfMissing: true)];
        var (alpha_t, sigma_t) = AlphaSigma(sigma);
        return alpha_t * original + sigma_t * noise;
    }

    /// <summary>searchsorted(flip(λ_t), lambda_min_clipped): how many of the noisiest steps are cut off.</summary>
    private int ClippedIndex()
    {
        if (double.IsNegativeInfinity(Config.LambdaMinClipped)) return 0;
        var lambdas = _alphasCumprod.Select(a => (double)(MathF.Log(MathF.Sqrt((float)a)) - MathF.Log(MathF.Sqrt(1f - (float)a)))).Reverse().ToArray();
        var idx = 0;
        while (idx < lambdas.Length && lambdas[idx] < Config.LambdaMinClipped) idx++;
        return idx;
    }

    private static (float Alpha, float Sigma) AlphaSigma(float sigma)
    {
        var alpha_t = 1f / MathF.Sqrt(sigma * sigma + 1f);
        return (alpha_t, sigma * alpha_t);
    }

    private static float Lambda(float alpha, float sigma) => MathF.Log(alpha) - MathF.Log(sigma);

    /// <summary>dpmsolver++ integrates the data prediction x̂₀, dpmsolver the noise prediction ε̂.</summary>
    private Tensor ConvertModelOutput(Tensor modelOutput, Tensor sample, int i)
    {
        var (alpha_t, sigma_t) = AlphaSigma((float)_sigmas[i]);
        if (Config.AlgorithmType == "dpmsolver++")
            return Config.PredictionType == PredictionType.Epsilon
                ? (sample - sigma_t * modelOutput) / alpha_t
                : alpha_t * sample - sigma_t * modelOutput;
        return Config.PredictionType == PredictionType.Epsilon
            ? modelOutput
            : alpha_t * modelOutput + sigma_t * sample;
    }

    private Tensor DataPrediction(Tensor epsilon, Tensor sample, int i)
    {
        var (alpha_t, sigma_t) = AlphaSigma((float)_sigmas[i]);
        return (sample - sigma_t * epsilon) / alpha_t;
    }

    /// <summary>DPM-Solver(++)-1, i.e. DDIM: DPM-Solver++ eq. (5) / DPM-Solver eq. (3.7).</summary>
    private Tensor FirstOrderUpdate(Tensor model_output, Tensor sample, int i)
    {
        var (alpha_t, sigma_t) = AlphaSigma((float)_sigmas[i + 1]);
        var (alpha_s, sigma_s) = AlphaSigma((float)_sigmas[i]);
        var h = Lambda(alpha_t, sigma_t) - Lambda(alpha_s, sigma_s);
        return Config.AlgorithmType == "dpmsolver++"
            ? sigma_t / sigma_s * sample - alpha_t * (MathF.Exp(-h) - 1f) * model_output
            : alpha_t / alpha_s * sample - sigma_t * (MathF.Exp(h) - 1f) * model_output;
    }

    /// <summary>Multistep second order (DPM-Solver++(2M), Algorithm 2 of arXiv:2211.01095), midpoint or Heun form.</summary>
    private Tensor SecondOrderUpdate(Tensor sample, int i)
    {
        var (alpha_t, sigma_t) = AlphaSigma((float)_sigmas[i + 1]);
        var (alpha_s0, sigma_s0) = AlphaSigma((float)_sigmas[i]);
        var (alpha_s1, sigma_s1) = AlphaSigma((float)_sigmas[i - 1]);
        var lambda_t = Lambda(alpha_t, sigma_t);
        var lambda_s0 = Lambda(alpha_s0, sigma_s0);
        var lambda_s1 = Lambda(alpha_s1, sigma_s1);

        Tensor m0 = _modelOutputs[^1]!, m1 = _modelOutputs[^2]!;
        float h = lambda_t - lambda_s0, h_0 = lambda_s0 - lambda_s1;
        var r0 = h_0 / h;
        Tensor D0 = m0, D1 = 1f / r0 * (m0 - m1);

        if (Config.AlgorithmType == "dpmsolver++")
        {
            var phi = alpha_t * (MathF.Exp(-h) - 1f);
            return Config.SolverType == "midpoint"
                ? sigma_t / sigma_s0 * sample - phi * D0 - 0.5f * phi * D1
                : sigma_t / sigma_s0 * sample - phi * D0 + alpha_t * ((MathF.Exp(-h) - 1f) / h + 1f) * D1;
        }
        var psi = sigma_t * (MathF.Exp(h) - 1f);
        return Config.SolverType == "midpoint"
            ? alpha_t / alpha_s0 * sample - psi * D0 - 0.5f * psi * D1
            : alpha_t / alpha_s0 * sample - psi * D0 - sigma_t * ((MathF.Exp(h) - 1f) / h - 1f) * D1;
    }
}
