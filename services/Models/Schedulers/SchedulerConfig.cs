using System.Text.Json;

namespace MultiModal.Models.Schedulers;

/// <summary>What the model predicts (diffusers' <c>prediction_type</c>).</summary>
public enum PredictionType
{
    /// <summary>ε, the added noise (SD 1.x, SD 2 base).</summary>
    Epsilon,
    /// <summary>v = √ᾱ·ε − √(1−ᾱ)·x₀ (SD 2.x 768, Imagen Video §2.4).</summary>
    VPrediction,
}

/// <summary>How inference timesteps are spread over the training range (Table 2 of arXiv:2305.08891).</summary>
public enum TimestepSpacing
{
    Leading,
    Linspace,
    Trailing,
}

/// <summary>diffusers' <c>beta_schedule</c>.</summary>
public enum BetaSchedule
{
    Linear,
    ScaledLinear,
    SquaredCosCapV2,
    /// <summary>Only DDPMScheduler accepts it.</summary>
    Sigmoid,
}

/// <summary>
/// A scheduler's configuration resolved for one scheduler class, the way diffusers'
/// <c>Cls.from_config(config)</c> resolves <c>scheduler_config.json</c>: keys the class's <c>__init__</c> accepts are
/// taken from the file, every other setting keeps that class's own default (so SD 1.5's PNDM file gives Euler
/// <c>timestep_spacing = "linspace"</c> but DDIM <c>"leading"</c>), keys listed in <c>_use_default_values</c> count as
/// absent, and unknown keys are ignored. Settings a class does not accept keep neutral defaults and are not used by it.
/// </summary>
public sealed record SchedulerConfig
{
    /// <summary>The diffusers class this config is resolved for (e.g. <c>EulerDiscreteScheduler</c>).</summary>
    public required string ClassName { get; init; }

    /// <summary><c>_class_name</c> of the file the settings came from.</summary>
    public string? SourceClassName { get; init; }

    /// <summary>The file's JSON text, kept so <see cref="ForClass"/> can re-resolve it for another class.</summary>
    public string SourceJson { get; init; } = "{}";

    public int NumTrainTimesteps { get; init; } = 1000;
    public double BetaStart { get; init; } = 0.0001;
    public double BetaEnd { get; init; } = 0.02;
    public BetaSchedule BetaSchedule { get; init; } = BetaSchedule.Linear;
    public IReadOnlyList<double>? TrainedBetas { get; init; }
    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;
    public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Leading;
    public int StepsOffset { get; init; }
    public bool RescaleBetasZeroSnr { get; init; }

    // DDIM / DDPM
    public bool ClipSample { get; init; }
    public double ClipSampleRange { get; init; } = 1.0;
    public bool Thresholding { get; init; }
    public double DynamicThresholdingRatio { get; init; } = 0.995;
    public double SampleMaxValue { get; init; } = 1.0;

    // DDIM / PNDM
    public bool SetAlphaToOne { get; init; }

    // PNDM
    public bool SkipPrkSteps { get; init; }

    // DDPM ("fixed_small" …) and DPM-Solver (null)
    public string? VarianceType { get; init; }

    // Euler / LMS / DPM-Solver
    public bool UseKarrasSigmas { get; init; }
    public string InterpolationType { get; init; } = "linear";
    public string TimestepType { get; init; } = "discrete";
    public double? SigmaMin { get; init; }
    public double? SigmaMax { get; init; }

    // DPM-Solver
    public int SolverOrder { get; init; } = 2;
    public string AlgorithmType { get; init; } = "dpmsolver++";
    public string SolverType { get; init; } = "midpoint";
    public bool LowerOrderFinal { get; init; } = true;
    public bool EulerAtFinal { get; init; }
    public bool UseLuLambdas { get; init; }
    public double LambdaMinClipped { get; init; } = double.NegativeInfinity;

    /// <summary>Reads <c>scheduler_config.json</c> and resolves it for its own <c>_class_name</c> (or <paramref name="className"/>).</summary>
    public static SchedulerConfig Load(string path, string? className = null) => Parse(File.ReadAllText(path), className);

    /// <summary>Resolves a <c>scheduler_config.json</c> text for its own <c>_class_name</c> (or <paramref name="className"/>).</summary>
    public static SchedulerConfig Parse(string json, string? className = null)
    {
        using var document = JsonDocument.Parse(SchedulerJson.QuoteNonFiniteNumbers(json));
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException("A scheduler config must be a JSON object.");
        var root = document.RootElement;
        var sourceClass = root.TryGetProperty("_class_name", out var cls) && cls.ValueKind == JsonValueKind.String
            ? cls.GetString() : null;
        var target = className ?? sourceClass
            ?? throw new InvalidDataException("The scheduler config has no _class_name and no target class was given.");
        var accepted = SchedulerClasses.AcceptedKeys(target);

        // diffusers' extract_init_dict: keys that were filled from defaults when the file was made count as absent.
        var usedDefaults = root.TryGetProperty("_use_default_values", out var ud) && ud.ValueKind == JsonValueKind.Array
            ? ud.EnumerateArray().Select(e => e.GetString()).ToHashSet() : [];

        var config = SchedulerClasses.Defaults(target) with { SourceClassName = sourceClass, SourceJson = json };
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name.StartsWith('_') || usedDefaults.Contains(property.Name) || !accepted.Contains(property.Name))
                continue;
            config = config.With(property.Name, property.Value);
        }
        config.Validate();
        return config;
    }

    /// <summary>The same file resolved for another class: diffusers' <c>OtherScheduler.from_config(scheduler.config)</c>.</summary>
    public SchedulerConfig ForClass(string className) => Parse(SourceJson, className);

    /// <summary>Throws for settings diffusers accepts but this port does not implement, or that make no sense.</summary>
    public void Validate()
    {
        if (NumTrainTimesteps < 1)
            throw new InvalidDataException($"num_train_timesteps must be positive, got {NumTrainTimesteps}.");
        if (TrainedBetas is { } betas && betas.Count != NumTrainTimesteps)
            throw new InvalidDataException($"trained_betas has {betas.Count} values but num_train_timesteps is {NumTrainTimesteps}.");
        if (Thresholding)
            throw new NotSupportedException("thresholding (dynamic thresholding) is not supported; latent diffusion does not use it.");
        if (InterpolationType != "linear")
            throw new NotSupportedException($"interpolation_type '{InterpolationType}' is not supported; expected 'linear'.");
        if (TimestepType != "discrete")
            throw new NotSupportedException($"timestep_type '{TimestepType}' is not supported; expected 'discrete'.");
        if (UseLuLambdas)
            throw new NotSupportedException("use_lu_lambdas is not supported.");
    }

    private SchedulerConfig With(string key, JsonElement value) => key switch
    {
        "num_train_timesteps" => this with { NumTrainTimesteps = (int)value.GetDouble() },
        "beta_start" => this with { BetaStart = value.GetDouble() },
        "beta_end" => this with { BetaEnd = value.GetDouble() },
        "beta_schedule" => this with { BetaSchedule = ParseBetaSchedule(value.GetString()) },
        "trained_betas" => this with
        {
            TrainedBetas = value.ValueKind == JsonValueKind.Null ? null : value.EnumerateArray().Select(SchedulerJson.GetDouble).ToArray(),
        },
        "prediction_type" => this with { PredictionType = ParsePredictionType(value.GetString()) },
        "timestep_spacing" => this with { TimestepSpacing = ParseSpacing(value.GetString()) },
        "steps_offset" => this with { StepsOffset = (int)value.GetDouble() },
        "rescale_betas_zero_snr" => this with { RescaleBetasZeroSnr = SchedulerJson.GetBool(value) },
        "clip_sample" => this with { ClipSample = SchedulerJson.GetBool(value) },
        "clip_sample_range" => this with { ClipSampleRange = value.GetDouble() },
        "thresholding" => this with { Thresholding = SchedulerJson.GetBool(value) },
        "dynamic_thresholding_ratio" => this with { DynamicThresholdingRatio = value.GetDouble() },
        "sample_max_value" => this with { SampleMaxValue = value.GetDouble() },
        "set_alpha_to_one" => this with { SetAlphaToOne = SchedulerJson.GetBool(value) },
        "skip_prk_steps" => this with { SkipPrkSteps = SchedulerJson.GetBool(value) },
        "variance_type" => this with { VarianceType = value.ValueKind == JsonValueKind.Null ? null : value.GetString() },
        "use_karras_sigmas" => this with { UseKarrasSigmas = SchedulerJson.GetBool(value) },
        "interpolation_type" => this with { InterpolationType = value.GetString() ?? "linear" },
        "timestep_type" => this with { TimestepType = value.GetString() ?? "discrete" },
        "sigma_min" => this with { SigmaMin = value.ValueKind == JsonValueKind.Null ? null : SchedulerJson.GetDouble(value) },
        "sigma_max" => this with { SigmaMax = value.ValueKind == JsonValueKind.Null ? null : SchedulerJson.GetDouble(value) },
        "solver_order" => this with { SolverOrder = (int)value.GetDouble() },
        "algorithm_type" => this with { AlgorithmType = value.GetString() ?? "dpmsolver++" },
        "solver_type" => this with { SolverType = value.GetString() ?? "midpoint" },
        "lower_order_final" => this with { LowerOrderFinal = SchedulerJson.GetBool(value) },
        "euler_at_final" => this with { EulerAtFinal = SchedulerJson.GetBool(value) },
        "use_lu_lambdas" => this with { UseLuLambdas = SchedulerJson.GetBool(value) },
        "lambda_min_clipped" => this with { LambdaMinClipped = SchedulerJson.GetDouble(value) },
        _ => this,
    };

    private static BetaSchedule ParseBetaSchedule(string? value) => value switch
    {
        "linear" => BetaSchedule.Linear,
        "scaled_linear" => BetaSchedule.ScaledLinear,
        "squaredcos_cap_v2" => BetaSchedule.SquaredCosCapV2,
        "sigmoid" => BetaSchedule.Sigmoid,
        _ => throw new NotSupportedException($"beta_schedule '{value}' is not supported."),
    };

    private static PredictionType ParsePredictionType(string? value) => value switch
    {
        "epsilon" => PredictionType.Epsilon,
        "v_prediction" => PredictionType.VPrediction,
        _ => throw new NotSupportedException($"prediction_type '{value}' is not supported; expected 'epsilon' or 'v_prediction'."),
    };

    private static TimestepSpacing ParseSpacing(string? value) => value switch
    {
        "leading" => TimestepSpacing.Leading,
        "linspace" => TimestepSpacing.Linspace,
        "trailing" => TimestepSpacing.Trailing,
        _ => throw new NotSupportedException($"timestep_spacing '{value}' is not supported; expected 'leading', 'linspace' or 'trailing'."),
    };
}
