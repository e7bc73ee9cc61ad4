using Grpc.Core;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Vision.Mapping;

namespace MultiModal.Vision;

/// <summary>
/// Thin handlers: shed at once if the backend's queue is full → validate and decode (on the request thread) → backend →
/// map back.
/// </summary>
public sealed class VisionGrpcService(VisionRunner runner) : VisionService.VisionServiceBase
{
    public override async Task<DescribeResponse> Describe(DescribeRequest request, ServerCallContext context)
    {
        runner.Backend.ShedIfFull();
        var vision = VisionRequestMapper.ToRequest(request, runner.Options);
        var result = await runner.Backend.DescribeAsync(vision, context.Deadline, context.CancellationToken);
        return VisionResponseMapper.ToDescribe(result);
    }

    public override async Task DescribeStream(
        DescribeStreamRequest request, IServerStreamWriter<DescribeStreamResponse> responseStream, ServerCallContext context)
    {
        runner.Backend.ShedIfFull();
        var vision = VisionRequestMapper.ToRequest(request, runner.Options);
        await foreach (var e in runner.Backend.DescribeStreamAsync(vision, context.Deadline, context.CancellationToken))
            await responseStream.WriteAsync(VisionResponseMapper.ToStream(e), context.CancellationToken);
    }

    public override Task<GetModelInfoResponse> GetModelInfo(GetModelInfoRequest request, ServerCallContext context) =>
        Task.FromResult(VisionResponseMapper.ToModelInfo(runner.Backend, runner.Options));
}
