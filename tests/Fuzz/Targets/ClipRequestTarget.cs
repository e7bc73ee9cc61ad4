using Grpc.Core;
using MultiModal.Clip;
using MultiModal.Clip.Mapping;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Core.Errors;
using MultiModal.Models.Clip;
using MultiModal.Models.Errors;

namespace MultiModal.Tests.Fuzz.Targets;

/// <summary>
/// The CLIP service's request mapping with its default options: the first byte picks the RPC (EmbedTexts,
/// EmbedImages, Classify, Rank), the rest is its request message, parsed and mapped as <see cref="ClipGrpcService"/>
/// does before queueing (validation, tokenizing, image decoding and preprocessing). Clean rejections: INVALID_ARGUMENT
/// (<see cref="InferenceException"/> with that code, or <see cref="InputRejectedException"/>, which the error
/// interceptor maps to it); bytes that are not the message are gRPC's to refuse and end the run.
/// </summary>
public sealed class ClipRequestTarget : IFuzzTarget
{
    public const string TargetName = "clip-request";
    private readonly ClipTokenizer _tokenizer = ClipTokenizer.FromFolder(FuzzAssets.ClipFolder);
    private readonly ClipImageProcessor _processor = ClipImageProcessor.FromFolder(FuzzAssets.ClipFolder);
    private readonly ClipOptions _options = new();

    public string Name => TargetName;

    public string Description => "byte 0 % 4 picks EmbedTexts/EmbedImages/Classify/Rank, the rest is its request → ClipRequestMapper; rejects with INVALID_ARGUMENT";

    public void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
            return;
        var message = input[1..];
        try
        {
            switch (input[0] % 4)
            {
                case 0 when ProtoInput.TryParse(EmbedTextsRequest.Parser, message, out var r):
                    ClipRequestMapper.ToWork(r, _tokenizer, _processor, _options);
                    break;
                case 1 when ProtoInput.TryParse(EmbedImagesRequest.Parser, message, out var r):
                    ClipRequestMapper.ToWork(r, _tokenizer, _processor, _options);
                    break;
                case 2 when ProtoInput.TryParse(ClassifyRequest.Parser, message, out var r):
                    ClipRequestMapper.ToWork(r, _tokenizer, _processor, _options);
                    break;
                case 3 when ProtoInput.TryParse(RankRequest.Parser, message, out var r):
                    ClipRequestMapper.ToWork(r, _tokenizer, _processor, _options);
                    break;
            }
        }
        catch (InferenceException e) when (e.Code == StatusCode.InvalidArgument) { }
        catch (InputRejectedException) { }
    }
}
