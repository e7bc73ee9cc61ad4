using Grpc.Core;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Models.Imaging;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Diffusion;

/// <summary>Reading GenerateImage streams in tests.</summary>
internal static class DiffusionStreams
{
    /// <summary>Every event of the call, in order, until the stream ends.</summary>
    public static async Task<List<GenerateImageResponse>> ReadAllAsync(AsyncServerStreamingCall<GenerateImageResponse> call)
    {
        var events = new List<GenerateImageResponse>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
            events.Add(call.ResponseStream.Current);
        return events;
    }

    /// <summary>Reads until an event matches, and returns the events read so far (that one last).</summary>
    public static async Task<List<GenerateImageResponse>> ReadUntilAsync(
        AsyncServerStreamingCall<GenerateImageResponse> call, Func<GenerateImageResponse, bool> stop)
    {
        var events = new List<GenerateImageResponse>();
        while (true)
        {
            Assert.True(await call.ResponseStream.MoveNext().DefaultTimeout(), "the stream ended early");
            events.Add(call.ResponseStream.Current);
            if (stop(call.ResponseStream.Current))
                return events;
        }
    }

    /// <summary>The one result, which must be the last event.</summary>
    public static Result SingleResultLast(IReadOnlyList<GenerateImageResponse> events)
    {
        Assert.Single(events, e => e.EventCase == GenerateImageResponse.EventOneofCase.Result);
        Assert.Equal(GenerateImageResponse.EventOneofCase.Result, events[^1].EventCase);
        return events[^1].Result;
    }

    public static DecodedImage Decode(Contracts.Common.V1.Image image) => ImageDecoder.Decode(image.Data.Span, ImageLimits.Default);
}
