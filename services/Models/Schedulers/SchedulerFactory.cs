namespace MultiModal.Models.Schedulers;

/// <summary>The samplers a request can choose (mirrors the proto's <c>Scheduler</c> enum).</summary>
public enum SchedulerKind
{
    /// <summary>The pipeline's own scheduler: the config's <c>_class_name</c> as it is.</summary>
    Default,
    Ddim,
    Pndm,
    Euler,
    EulerAncestral,
    /// <summary>DPMSolverMultistep, dpmsolver++, order 2, midpoint.</summary>
    DpmPP2M,
    /// <summary>DPM++ 2M with Karras sigmas.</summary>
    DpmPP2MKarras,
    Lms,
    Ddpm,
}

/// <summary>
/// Builds schedulers the way users swap them on a loaded diffusers pipeline:
/// <c>Cls.from_config(pipe.scheduler.config, **extra)</c>. The pipeline's scheduler_config.json is re-resolved for the
/// chosen class (its accepted keys, its own defaults for the rest), then the kind's fixed settings are applied.
/// </summary>
public static class SchedulerFactory
{
    /// <summary>A new scheduler of <paramref name="kind"/> configured from the pipeline's scheduler config.</summary>
    public static IScheduler Create(SchedulerKind kind, SchedulerConfig pipelineConfig) =>
        Create(Resolve(kind, pipelineConfig));

    /// <summary>The config <see cref="Create(SchedulerKind, SchedulerConfig)"/> uses for <paramref name="kind"/>.</summary>
    public static SchedulerConfig Resolve(SchedulerKind kind, SchedulerConfig pipelineConfig) => kind switch
    {
        SchedulerKind.Default => pipelineConfig,
        SchedulerKind.Ddim => pipelineConfig.ForClass(SchedulerClasses.Ddim),
        SchedulerKind.Pndm => pipelineConfig.ForClass(SchedulerClasses.Pndm),
        SchedulerKind.Euler => pipelineConfig.ForClass(SchedulerClasses.EulerDiscrete),
        SchedulerKind.EulerAncestral => pipelineConfig.ForClass(SchedulerClasses.EulerAncestralDiscrete),
        // "DPM++ 2M" names the algorithm, so it is forced whatever the file says (a DPM file may hold others)
        SchedulerKind.DpmPP2M => pipelineConfig.ForClass(SchedulerClasses.DpmSolverMultistep) with
        {
            AlgorithmType = "dpmsolver++", SolverOrder = 2, SolverType = "midpoint", UseKarrasSigmas = false,
        },
        SchedulerKind.DpmPP2MKarras => pipelineConfig.ForClass(SchedulerClasses.DpmSolverMultistep) with
        {
            AlgorithmType = "dpmsolver++", SolverOrder = 2, SolverType = "midpoint", UseKarrasSigmas = true,
        },
        SchedulerKind.Lms => pipelineConfig.ForClass(SchedulerClasses.LmsDiscrete),
        SchedulerKind.Ddpm => pipelineConfig.ForClass(SchedulerClasses.Ddpm),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown scheduler kind."),
    };

    /// <summary>A new scheduler of the class the config is resolved for (<see cref="SchedulerConfig.ClassName"/>).</summary>
    public static IScheduler Create(SchedulerConfig config) => config.ClassName switch
    {
        SchedulerClasses.Ddim => new DdimScheduler(config),
        SchedulerClasses.Pndm => new PndmScheduler(config),
        SchedulerClasses.EulerDiscrete => new EulerDiscreteScheduler(config),
        SchedulerClasses.EulerAncestralDiscrete => new EulerAncestralDiscreteScheduler(config),
        SchedulerClasses.DpmSolverMultistep => new DpmSolverMultistepScheduler(config),
        SchedulerClasses.LmsDiscrete => new LmsDiscreteScheduler(config),
        SchedulerClasses.Ddpm => new DdpmScheduler(config),
        _ => throw new NotSupportedException($"Scheduler class '{config.ClassName}' is not supported."),
    };
}
