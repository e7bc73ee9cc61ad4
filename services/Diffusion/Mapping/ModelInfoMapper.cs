using MultiModal.Contracts.Diffusion.V1;

namespace MultiModal.Diffusion.Mapping;

/// <summary>The loaded pipeline, the limits and the queue counters → GetModelInfoResponse.</summary>
public static class ModelInfoMapper
{
    public static GetModelInfoResponse ToWire(DiffusionRunner runner)
    {
        var pipeline = runner.Pipeline;
        var o = runner.Options;
        var stats = runner.Stats;
        return new GetModelInfoResponse
        {
            ModelName = runner.ModelName,
            NativeWidth = (uint)pipeline.NativeWidth,
            NativeHeight = (uint)pipeline.NativeHeight,
            DefaultScheduler = SchedulerNames.ToWire(pipeline.DefaultScheduler),
            Schedulers = { SchedulerNames.Selectable },
            PredictionType = pipeline.PredictionType,
            MaxPixels = (uint)o.MaxPixels,
            MaxSteps = (uint)o.MaxSteps,
            MaxImages = (uint)o.MaxImages,
            MaxQueueLength = (uint)o.MaxQueueLength,
            Device = runner.Device,
            Dtype = runner.DType,
            Stats = stats.ToServingStats().ToWire(),
            JobsCancelled = stats.Cancelled,
            DenoisingStepsRun = stats.StepsRun,
        };
    }
}
