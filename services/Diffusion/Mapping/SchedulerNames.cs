using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Models.Schedulers;

namespace MultiModal.Diffusion.Mapping;

/// <summary>The wire <see cref="Scheduler"/> enum, the pipeline's <see cref="SchedulerKind"/> and the sampler names UIs show.</summary>
public static class SchedulerNames
{
    /// <summary>Every scheduler a request may name (UNSPECIFIED = the model's own is implied).</summary>
    public static IReadOnlyList<Scheduler> Selectable { get; } =
    [
        Scheduler.Ddim, Scheduler.Pndm, Scheduler.Euler, Scheduler.EulerAncestral,
        Scheduler.Dpmpp2M, Scheduler.Dpmpp2MKarras, Scheduler.Lms, Scheduler.Ddpm,
    ];

    /// <summary>The pipeline's kind; null for a value this server does not know (a newer client).</summary>
    public static SchedulerKind? ToKind(Scheduler scheduler) => scheduler switch
    {
        Scheduler.Unspecified => SchedulerKind.Default,
        Scheduler.Ddim => SchedulerKind.Ddim,
        Scheduler.Pndm => SchedulerKind.Pndm,
        Scheduler.Euler => SchedulerKind.Euler,
        Scheduler.EulerAncestral => SchedulerKind.EulerAncestral,
        Scheduler.Dpmpp2M => SchedulerKind.DpmPP2M,
        Scheduler.Dpmpp2MKarras => SchedulerKind.DpmPP2MKarras,
        Scheduler.Lms => SchedulerKind.Lms,
        Scheduler.Ddpm => SchedulerKind.Ddpm,
        _ => null,
    };

    public static Scheduler ToWire(SchedulerKind kind) => kind switch
    {
        SchedulerKind.Ddim => Scheduler.Ddim,
        SchedulerKind.Pndm => Scheduler.Pndm,
        SchedulerKind.Euler => Scheduler.Euler,
        SchedulerKind.EulerAncestral => Scheduler.EulerAncestral,
        SchedulerKind.DpmPP2M => Scheduler.Dpmpp2M,
        SchedulerKind.DpmPP2MKarras => Scheduler.Dpmpp2MKarras,
        SchedulerKind.Lms => Scheduler.Lms,
        SchedulerKind.Ddpm => Scheduler.Ddpm,
        _ => Scheduler.Unspecified,
    };

    /// <summary>The sampler name AUTOMATIC1111's web UI writes in its "parameters" text (PNDM's PLMS steps are "PLMS").</summary>
    public static string SamplerName(SchedulerKind kind) => kind switch
    {
        SchedulerKind.Ddim => "DDIM",
        SchedulerKind.Pndm => "PLMS",
        SchedulerKind.Euler => "Euler",
        SchedulerKind.EulerAncestral => "Euler a",
        SchedulerKind.DpmPP2M => "DPM++ 2M",
        SchedulerKind.DpmPP2MKarras => "DPM++ 2M Karras",
        SchedulerKind.Lms => "LMS",
        SchedulerKind.Ddpm => "DDPM",
        _ => "Default",
    };
}
