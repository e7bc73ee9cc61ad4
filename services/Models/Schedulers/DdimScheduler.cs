using static TorchSharp.torch;

namespace MultiModal.Models.Schedulers;

// Port of diffusers v0.25.1 schedulers/scheduling_ddim.py (DDIMScheduler), deterministic case (eta = 0), prediction_type
// "epsilon" and "v_prediction", no thresholding. Paper: https://arxiv.org/abs/2010.02502, eqs. (12) and (16).
// Notation: ᾱ_t = alphas_cumprod[t]; x_t = sample; ε_θ = model_output; x̂₀ = predicted original sample.
// ᾱ and the scalar coefficients are float32 like diffusers' 0-dim tensors.

/// <summary>DDIM (Song et al. 2020): deterministic sampler over an integer timestep subsequence.</summary>
public sealed class DdimScheduler : AlphaSchedulerBase
{
    private readonly float _finalAlphaCumprod;

    /// <summary>Builds the training schedule from a config resolved for <c>DDIMScheduler</c>.</summary>
    public DdimScheduler(SchedulerConfig config) : base(config)
    {
        // For the last step there is no previous ᾱ: 1 when set_alpha_to_one, else ᾱ_0 (SD: steps_offset 1 + false).
        _finalAlphaCumprod = config.SetAlphaToOne ? 1f : (float)AlphasCumprod[0];
    }

    public override SchedulerStepOutput Step(Tensor modelOutput, double timestep, Tensor sample, INoiseSource? noise = null)
    {
        var t = TrainIndex(timestep);

        // 1. previous timestep t' = t − T/N
        var prevTimestep = t - Config.NumTrainTimesteps / NumInferenceSteps;

        // 2. ᾱ_t, ᾱ_t', 1 − ᾱ_t
        var alpha_prod_t = (float)AlphasCumprod[t];
        var alpha_prod_t_prev = prevTimestep >= 0 ? (float)AlphasCumprod[prevTimestep] : _finalAlphaCumprod;
        var beta_prod_t = 1f - alpha_prod_t;

        // 3. x̂₀ and ε̂ from the model output (eq. 12; v-prediction: Imagen Video §2.4)
        Tensor pred_original_sample, pred_epsilon;
        if (Config.PredictionType == PredictionType.Epsilon)
        {
            pred_original_sample = (sample - MathF.Sqrt(beta_prod_t) * modelOutput) / MathF.Sqrt(alpha_prod_t);
            pred_epsilon = modelOutput;
        }
        else
        {
            pred_original_sample = MathF.Sqrt(alpha_prod_t) * sample - MathF.Sqrt(beta_prod_t) * modelOutput;
            pred_epsilon = MathF.Sqrt(alpha_prod_t) * modelOutput + MathF.Sqrt(beta_prod_t) * sample;
        }

        // 4. clip x̂₀ (SD configs turn this off)
        if (Config.ClipSample)
            pred_original_sample = pred_original_sample.clamp(-Config.ClipSampleRange, Config.ClipSampleRange);

        // 5.–7. η = 0: σ_t = 0, so x_t' = √ᾱ_t'·x̂₀ + √(1 − ᾱ_t')·ε̂   (eq. 12)
        var pred_sample_direction = MathF.Sqrt(1f - alpha_prod_t_prev) * pred_epsilon;
        var prev_sample = MathF.Sqrt(alpha_prod_t_prev) * pred_original_sample + pred_sample_direction;
        return new SchedulerStepOutput(prev_sample, pred_original_sample);
    }
}
