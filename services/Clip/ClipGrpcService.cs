using Grpc.Core;
using MultiModal.Clip.Mapping;
using MultiModal.Contracts.Clip.V1;

namespace MultiModal.Clip;

/// <summary>
/// Thin handlers: shed at once if the queue is full → validate and map (on the request thread) → queue → batched model
/// pass → map back.
/// </summary>
public sealed class ClipGrpcService(ClipRunner runner) : ClipService.ClipServiceBase
{
    public override async Task<EmbedTextsResponse> EmbedTexts(EmbedTextsRequest request, ServerCallContext context)
    {
        runner.ShedIfFull();
        var (work, texts) = ClipRequestMapper.ToWork(request, runner.Engine.Tokenizer, runner.Engine.Processor, runner.Options);
        var result = await runner.RunAsync(work, context);
        return ClipResponseMapper.ToEmbedTexts(result, texts, request.Normalize);
    }

    public override async Task<EmbedImagesResponse> EmbedImages(EmbedImagesRequest request, ServerCallContext context)
    {
        runner.ShedIfFull();
        var work = ClipRequestMapper.ToWork(request, runner.Engine.Tokenizer, runner.Engine.Processor, runner.Options);
        var result = await runner.RunAsync(work, context);
        return ClipResponseMapper.ToEmbedImages(result, request.Normalize);
    }

    public override async Task<ClassifyResponse> Classify(ClassifyRequest request, ServerCallContext context)
    {
        runner.ShedIfFull();
        var work = ClipRequestMapper.ToWork(request, runner.Engine.Tokenizer, runner.Engine.Processor, runner.Options);
        var result = await runner.RunAsync(work, context);
        return ClipResponseMapper.ToClassify(result, request.Labels, runner.Engine.LogitScale);
    }

    public override async Task<RankResponse> Rank(RankRequest request, ServerCallContext context)
    {
        runner.ShedIfFull();
        var (work, order) = ClipRequestMapper.ToWork(request, runner.Engine.Tokenizer, runner.Engine.Processor, runner.Options);
        var result = await runner.RunAsync(work, context);
        return ClipResponseMapper.ToRank(result, order, request.TopK, runner.Engine.LogitScale);
    }

    public override Task<GetModelInfoResponse> GetModelInfo(GetModelInfoRequest request, ServerCallContext context) =>
        Task.FromResult(ClipResponseMapper.ToModelInfo(runner));
}
