using MultiModal.Contracts.Vision.V1;
using MultiModal.Vision.Backends;
using WireFinishReason = MultiModal.Contracts.Vision.V1.FinishReason;

namespace MultiModal.Vision.Mapping;

/// <summary>Backend results → wire messages.</summary>
public static class VisionResponseMapper
{
    public static DescribeResponse ToDescribe(VisionResult result) => new()
    {
        Text = result.Text, FinishReason = ToWire(result.FinishReason), Usage = ToWire(result.Usage),
    };

    public static DescribeStreamResponse ToStream(VisionStreamEvent e) => e.IsFinal
        ? new DescribeStreamResponse { Delta = e.Delta, FinishReason = ToWire(e.FinishReason!.Value), Usage = ToWire(e.Usage!) }
        : new DescribeStreamResponse { Delta = e.Delta };

    public static GetModelInfoResponse ToModelInfo(IVisionBackend backend, VisionOptions o)
    {
        var info = backend.ModelInfo;
        return new GetModelInfoResponse
        {
            Backend = info.Backend,
            ModelName = info.ModelName,
            ContextLength = (uint)info.ContextLength,
            MaxImages = (uint)o.MaxImages,
            MaxPromptTokens = (uint)info.MaxPromptTokens,
            MaxNewTokens = (uint)o.MaxNewTokens,
            Device = info.Device,
            Dtype = info.DType,
            Stats = backend.Stats.ToWire(),
        };
    }

    public static WireFinishReason ToWire(VisionFinishReason reason) => reason switch
    {
        VisionFinishReason.Stop => WireFinishReason.Stop,
        VisionFinishReason.Length => WireFinishReason.Length,
        VisionFinishReason.Cancelled => WireFinishReason.Cancelled,
        _ => WireFinishReason.Unspecified,
    };

    public static Usage ToWire(VisionUsage usage) => new()
    {
        PromptTokens = (uint)usage.PromptTokens,
        CompletionTokens = (uint)usage.CompletionTokens,
        TotalTokens = (uint)usage.TotalTokens,
    };
}
