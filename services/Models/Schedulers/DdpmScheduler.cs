using static TorchSharp.torch;

namespace MultiModal.Models.Schedulers;

// Port of diffusers v0.25.1 schedulers/scheduling_ddpm.py (DDPMScheduler): ancestral sampling of Ho et al. 2020
// (https://arxiv.org/abs/2006.11239), eqs. (6)–(7), over an integer timestep subsequence, variance_type fixed_small /
// fixed_small_log / fixed_large, no thresholding, no custom timesteps. One N(0, 1) draw per step with t > 0, shaped like
// the model output. Unlike DDIM, ᾱ before step 0 is 1. Scalars are float32 like diffusers' 0-dim tensors.

/// <summary>DDPM ancestral sampler.</summary>
public sealed class DdpmScheduler : AlphaSchedulerBase
{
    /// <summary>Builds the training schedule from a config resolved for <c>DDPMScheduler</c>.</summary>
    public DdpmScheduler(SchedulerConfig config) : base(config)
    {
        if (config.VarianceType is not ("fixed_small" or "fixed_small_log" or "fixed_large"))
            throw new NotSupportedException($"variance_type '{config.VarianceType}' is not supported; expected 'fixed_small', 'fixed_small_log' or 'fixed_large'.");
    }

    public override SchedulerStepOutput Step(Tensor modelOutput, double timestep, Tensor sample, INoiseSource? noise = null)
    {
        var t = TrainIndex(timestep);
        var prev_t = t - Config.NumTrainTimesteps / NumInferenceSteps;

        // 1. ᾱ_t, ᾱ_{t'}, β̄ and the one-jump α_t/β_t between them
        var alpha_prod_t = (float)AlphasCumprod[t];
        var alpha_prod_t_prev = prev_t >= 0 ? (float)AlphasCumprod[prev_t] : 1f;
        var beta_prod_t = 1f - alpha_prod_t;
        var beta_prod_t_prev = 1f - alpha_prod_t_prev;
        var current_alpha_t = alpha_prod_t / alpha_prod_t_prev;
        var current_beta_t = 1f - current_alpha_t;

        // 2. x̂₀ (eq. 15)
        var pred_original_sample = Config.PredictionType == PredictionType.Epsilon
            ? (sample - MathF.Sqrt(beta_prod_t) * modelOutput) / MathF.Sqrt(alpha_prod_t)
            : MathF.Sqrt(alpha_prod_t) * sample - MathF.Sqrt(beta_prod_t) * modelOutput;

        // 3. clip x̂₀ (SD configs turn this off)
        if (Config.ClipSample)
            pred_original_sample = pred_original_sample.clamp(-Config.ClipSampleRange, Config.ClipSampleRange);

        // 4.–5. posterior mean μ̃_t(x_t, x̂₀) (eq. 7)
        var pred_original_sample_coeff = MathF.Sqrt(alpha_prod_t_prev) * current_beta_t / beta_prod_t;
        var current_sample_coeff = MathF.Sqrt(current_alpha_t) * beta_prod_t_prev / beta_prod_t;
        var pred_prev_sample = pred_original_sample_coeff * pred_original_sample + current_sample_coeff * sample;

        // 6. add σ_t·z for t > 0
        if (t > 0)
        {
            var variance_noise = SchedulerExtensions.DrawNoise(noise, modelOutput);
            pred_prev_sample = pred_prev_sample + Std(alpha_prod_t, alpha_prod_t_prev, current_beta_t) * variance_noise;
        }
        return new SchedulerStepOutput(pred_prev_sample, pred_original_sample);
    }

    /// <summary>σ_t: √β̃_t with β̃_t = (1 − ᾱ_{t'})/(1 − ᾱ_t)·β_t clamped at 1e-20 (fixed_small), or √β_t (fixed_large).</summary>
    private float Std(float alpha_prod_t, float alpha_prod_t_prev, float current_beta_t)
    {
        var variance = Math.Max((1f - alpha_prod_t_prev) / (1f - alpha_prod_t) * current_beta_t, 1e-20f);
        return Config.VarianceType switch
        {
            // diffusers' fixed_small_log returns exp(½·log β̃) itself and multiplies the noise by it directly
            "fixed_small_log" => MathF.Exp(0.5f * MathF.Log(variance)),
            "fixed_large" => MathF.Sqrt(current_beta_t),
            _ => MathF.Sqrt(variance),
        };
    }
}
