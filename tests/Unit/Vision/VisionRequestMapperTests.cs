using Google.Protobuf;
using Grpc.Core;
using MultiModal.Contracts.Common.V1;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Core.Errors;
using MultiModal.Models.Errors;
using MultiModal.Models.Imaging;
using MultiModal.Vision;
using MultiModal.Vision.Backends;
using MultiModal.Vision.Mapping;
using Xunit;

namespace MultiModal.Tests.Unit.Vision;

/// <summary>Defaults and field checks of the wire → request mapping, for both backends.</summary>
public sealed class VisionRequestMapperTests
{
    private static readonly VisionOptions Options = new();

    private static Image Png(int width = 8, int height = 6) =>
        new() { Data = ByteString.CopyFrom(ImageEncoder.EncodePng(new DecodedImage(width, height, new byte[width * height * 3]))) };

    [Fact]
    public void ToRequest_OnlyAnImage_AppliesDescribeThisImageGreedy300AndTopPOne()
    {
        var request = VisionRequestMapper.ToRequest(new DescribeRequest { Images = { Png() } }, Options);

        Assert.Equal("Describe this image.", request.Prompt);
        Assert.Equal(300, request.Sampling.MaxTokens);
        Assert.True(request.Sampling.IsGreedy);
        Assert.Equal(1.0, request.Sampling.TopP);
        Assert.Equal(0, request.Sampling.TopK);
        Assert.Null(request.Sampling.Seed);
        var image = Assert.Single(request.Images);
        Assert.Equal("image/png", image.MimeType);
        Assert.Equal((8, 6), (image.Decoded.Width, image.Decoded.Height));
    }

    [Fact]
    public void ToRequest_TemperatureZero_Greedy()
    {
        var request = VisionRequestMapper.ToRequest(new DescribeRequest { Images = { Png() }, Temperature = 0 }, Options);

        Assert.True(request.Sampling.IsGreedy);
    }

    [Fact]
    public void ToRequest_StreamRequestWithSampling_KeepsEveryKnob()
    {
        var request = VisionRequestMapper.ToRequest(new DescribeStreamRequest
        {
            Images = { Png() }, Prompt = "What?", MaxTokens = 1024, Temperature = 2, TopP = 0.5f, TopK = 7, Seed = ulong.MaxValue, Stop = { "a", "b", "c", "d" },
        }, Options);

        Assert.Equal("What?", request.Prompt);
        Assert.Equal(new[] { 1024.0, 2.0, 0.5, 7.0 }, new[] { request.Sampling.MaxTokens, request.Sampling.Temperature!.Value, request.Sampling.TopP, request.Sampling.TopK });
        Assert.Equal(ulong.MaxValue, request.Sampling.Seed);
        Assert.Equal(["a", "b", "c", "d"], request.Sampling.Stop);
    }

    [Theory]
    [InlineData("max_tokens")]
    [InlineData("temperature")]
    [InlineData("top_p")]
    [InlineData("stop")]
    [InlineData("stop[1]")]
    [InlineData("images")]
    [InlineData("images[0].data")]
    [InlineData("prompt")]
    public void ToRequest_BadField_InvalidArgumentNamingIt(string field)
    {
        var request = new DescribeRequest { Images = { Png() } };
        switch (field)
        {
            case "max_tokens": request.MaxTokens = 1025; break;
            case "temperature": request.Temperature = 2.01f; break;
            case "top_p": request.TopP = -0.1f; break;
            case "stop": request.Stop.Add(["1", "2", "3", "4", "5"]); break;
            case "stop[1]": request.Stop.Add(["ok", ""]); break;
            case "images": request.Images.Add(Png()); break;
            case "images[0].data": request.Images[0] = new Image { Data = ByteString.CopyFromUtf8("GIF89a but not really") }; break;
            case "prompt": request.Prompt = new string('x', Options.MaxPromptChars + 1); break;
        }

        var error = Assert.ThrowsAny<Exception>(() => VisionRequestMapper.ToRequest(request, Options));

        // Image decoding failures keep the model's rejection (mapped by Core), the rest are InferenceExceptions.
        var named = error switch
        {
            InferenceException e when e.Code == StatusCode.InvalidArgument => Assert.Single(e.FieldViolations).Field,
            InputRejectedException e => e.Field,
            _ => throw error,
        };
        Assert.Equal(field, named);
    }

    [Fact]
    public void CheckPromptTokens_OverTheLimit_InvalidArgumentPromptTooLongOnPrompt()
    {
        VisionRequestMapper.CheckPromptTokens(promptTokens: 255, imageTokens: 16, maxPromptTokens: 255);   // at the limit: accepted

        var error = Assert.Throws<InferenceException>(() => VisionRequestMapper.CheckPromptTokens(promptTokens: 256, imageTokens: 16, maxPromptTokens: 255));

        Assert.Equal(StatusCode.InvalidArgument, error.Code);
        Assert.Equal(ErrorReason.PromptTooLong, error.Reason);
        Assert.Equal("prompt", Assert.Single(error.FieldViolations).Field);
        Assert.Contains("256 tokens (16 for images)", error.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, "image/png")]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0 }, "image/jpeg")]
    [InlineData(new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 1, 2, 3, 4, (byte)'W', (byte)'E', (byte)'B', (byte)'P' }, "image/webp")]
    [InlineData(new byte[] { (byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a' }, "image/gif")]
    [InlineData(new byte[] { (byte)'B', (byte)'M', 0, 0 }, "image/bmp")]
    [InlineData(new byte[] { 1, 2, 3 }, "application/octet-stream")]
    public void Sniff_Signature_MediaType(byte[] data, string expected) =>
        Assert.Equal(expected, ImageMimeTypes.Sniff(data));

    [Fact]
    public void ToRequest_HistoryAndSystem_KeptInOrder()
    {
        var request = VisionRequestMapper.ToRequest(new DescribeRequest
        {
            Images = { Png() }, Prompt = "And now?", System = "Be brief.",
            History = { new ConversationTurn { User = "What is it?", Assistant = "A dot." } },
        }, Options);

        Assert.Equal("Be brief.", request.System);
        Assert.Equal([new VisionTurn("What is it?", "A dot.")], request.History);
    }

    [Theory]
    [InlineData("", "a", "history[0].user")]
    [InlineData("<image> hi", "a", "history[0].user")]
    [InlineData("hi", "<image>", "history[0].assistant")]
    public void ToRequest_BadHistoryTurn_InvalidArgumentNamingIt(string user, string assistant, string field)
    {
        var ex = Assert.Throws<InferenceException>(() => VisionRequestMapper.ToRequest(new DescribeStreamRequest
        {
            Images = { Png() }, History = { new ConversationTurn { User = user, Assistant = assistant } },
        }, Options));

        Assert.Equal(field, Assert.Single(ex.FieldViolations).Field);
    }
}
