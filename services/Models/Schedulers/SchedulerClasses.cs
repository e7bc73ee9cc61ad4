namespace MultiModal.Models.Schedulers;

/// <summary>
/// The diffusers 0.25.1 scheduler classes this port implements: their <c>__init__</c> keyword arguments (the config
/// keys <c>from_config</c> passes on) and the defaults that differ between classes.
/// </summary>
public static class SchedulerClasses
{
    public const string Ddim = "DDIMScheduler";
    public const string Pndm = "PNDMScheduler";
    public const string EulerDiscrete = "EulerDiscreteScheduler";
    public const string EulerAncestralDiscrete = "EulerAncestralDiscreteScheduler";
    public const string DpmSolverMultistep = "DPMSolverMultistepScheduler";
    public const string LmsDiscrete = "LMSDiscreteScheduler";
    public const string Ddpm = "DDPMScheduler";

    private static readonly string[] Common = ["num_train_timesteps", "beta_start", "beta_end", "beta_schedule", "trained_betas"];

    private static readonly Dictionary<string, HashSet<string>> Keys = new(StringComparer.Ordinal)
    {
        [Ddim] = [.. Common, "clip_sample", "set_alpha_to_one", "steps_offset", "prediction_type", "thresholding",
            "dynamic_thresholding_ratio", "clip_sample_range", "sample_max_value", "timestep_spacing", "rescale_betas_zero_snr"],
        [Pndm] = [.. Common, "skip_prk_steps", "set_alpha_to_one", "prediction_type", "timestep_spacing", "steps_offset"],
        [EulerDiscrete] = [.. Common, "prediction_type", "interpolation_type", "use_karras_sigmas", "sigma_min", "sigma_max",
            "timestep_spacing", "timestep_type", "steps_offset", "rescale_betas_zero_snr"],
        [EulerAncestralDiscrete] = [.. Common, "prediction_type", "timestep_spacing", "steps_offset", "rescale_betas_zero_snr"],
        [DpmSolverMultistep] = [.. Common, "solver_order", "prediction_type", "thresholding", "dynamic_thresholding_ratio",
            "sample_max_value", "algorithm_type", "solver_type", "lower_order_final", "euler_at_final", "use_karras_sigmas",
            "use_lu_lambdas", "lambda_min_clipped", "variance_type", "timestep_spacing", "steps_offset"],
        [LmsDiscrete] = [.. Common, "use_karras_sigmas", "prediction_type", "timestep_spacing", "steps_offset"],
        [Ddpm] = [.. Common, "variance_type", "clip_sample", "prediction_type", "thresholding", "dynamic_thresholding_ratio",
            "clip_sample_range", "sample_max_value", "timestep_spacing", "steps_offset", "rescale_betas_zero_snr"],
    };

    /// <summary>Every class name this port implements.</summary>
    public static IReadOnlyCollection<string> Names => Keys.Keys;

    /// <summary>The config keys <paramref name="className"/>'s <c>__init__</c> takes.</summary>
    public static IReadOnlySet<string> AcceptedKeys(string className) =>
        Keys.TryGetValue(className, out var keys)
            ? keys
            : throw new NotSupportedException(
                $"Scheduler class '{className}' is not supported; expected one of {string.Join(", ", Keys.Keys)}.");

    /// <summary>A config holding <paramref name="className"/>'s own <c>__init__</c> defaults.</summary>
    public static SchedulerConfig Defaults(string className)
    {
        _ = AcceptedKeys(className);
        return className switch
        {
            Ddim => new SchedulerConfig { ClassName = className, ClipSample = true, SetAlphaToOne = true },
            Pndm => new SchedulerConfig { ClassName = className },
            Ddpm => new SchedulerConfig { ClassName = className, ClipSample = true, VarianceType = "fixed_small" },
            _ => new SchedulerConfig { ClassName = className, TimestepSpacing = TimestepSpacing.Linspace },
        };
    }
}
