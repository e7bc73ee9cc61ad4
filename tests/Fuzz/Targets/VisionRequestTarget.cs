using Grpc.Core;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Core.Errors;
using MultiModal.Models.Errors;
using MultiModal.Vision;
using MultiModal.Vision.Mapping;

namespace MultiModal.Tests.Fuzz.Targets;

/// <summary>
/// The Vision service's request mapping with its default options: the first byte picks Describe or DescribeStream,
/// the rest is its request message → <see cref="VisionRequestMapper.ToRequest(DescribeRequest, VisionOptions)"/>
/// (field checks, image sniffing and decoding). Clean rejections: INVALID_ARGUMENT, as for <see cref="ClipRequestTarget"/>.
/// </summary>
public sealed class VisionRequestTarget : IFuzzTarget
{
    public const string TargetName = "vision-request";
    private readonly VisionOptions _options = new();

    public string Name => TargetName;

    public string Description => "byte 0 % 2 picks Describe/DescribeStream, the rest is its request → VisionRequestMapper.ToRequest; rejects with INVALID_ARGUMENT";

    public void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
            return;
        var message = input[1..];
        try
        {
            if (input[0] % 2 == 0 && ProtoInput.TryParse(DescribeRequest.Parser, message, out var describe))
                VisionRequestMapper.ToRequest(describe, _options);
            else if (input[0] % 2 == 1 && ProtoInput.TryParse(DescribeStreamRequest.Parser, message, out var stream))
                VisionRequestMapper.ToRequest(stream, _options);
        }
        catch (InferenceException e) when (e.Code == StatusCode.InvalidArgument) { }
        catch (InputRejectedException) { }
    }
}
