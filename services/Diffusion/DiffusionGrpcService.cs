using Grpc.Core;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Diffusion.Mapping;

namespace MultiModal.Diffusion;

/// <summary>Thin handlers: validate and map (on the request thread) → queue → stream the job's events → map back.</summary>
public sealed class DiffusionGrpcService(DiffusionRunner runner) : DiffusionService.DiffusionServiceBase
{
    public override async Task GenerateImage(
        GenerateImageRequest request, IServerStreamWriter<GenerateImageResponse> responseStream, ServerCallContext context)
    {
        var work = GenerateImageMapper.ToJob(request, runner.Pipeline.Rules, runner.Options);
        // Disposing cancels the job if the stream ends early (client gone, write failed).
        using var job = runner.Enqueue(work, context);
        await foreach (var e in job.ReadEventsAsync(runner.Heartbeat, context.CancellationToken))
            await responseStream.WriteAsync(GenerationEventMapper.ToWire(e, work, runner.ModelName, runner.Options), context.CancellationToken);
    }

    public override Task<GetModelInfoResponse> GetModelInfo(GetModelInfoRequest request, ServerCallContext context) =>
        Task.FromResult(ModelInfoMapper.ToWire(runner));
}
