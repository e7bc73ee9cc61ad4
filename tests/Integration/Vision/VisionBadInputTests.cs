using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using MultiModal.Contracts.Common.V1;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Vision;

/// <summary>Every bad input gets INVALID_ARGUMENT naming the field (unary and streaming), and the service keeps serving.</summary>
[Collection(VisionFleetCollection.Name)]
public sealed class VisionBadInputTests(VisionFleetFixture fleet)
{
    [Fact]
    public async Task Describe_NoImage_InvalidArgumentNamingImages()
    {
        var request = fleet.GoldenRequest(0);
        request.Images.Clear();
        await AssertRejectedAsync(request, "images", "INVALID_INPUT");
    }

    [Fact]
    public async Task Describe_TwoImagesWithMaxImagesOne_InvalidArgumentNamingImages()
    {
        var request = fleet.GoldenRequest(0);
        request.Images.Add(VisionFleetFixture.LoadImage("checker_40x40"));
        await AssertRejectedAsync(request, "images", "INVALID_INPUT");
    }

    [Fact]
    public async Task Describe_CorruptImage_InvalidArgumentUnsupportedFormat()
    {
        var garbage = new byte[4096];
        new Random(7).NextBytes(garbage);
        var request = fleet.GoldenRequest(0);
        request.Images[0] = new Image { Data = ByteString.CopyFrom(garbage) };
        await AssertRejectedAsync(request, "images[0].data", "UNSUPPORTED_IMAGE_FORMAT");
    }

    [Fact]
    public async Task Describe_TruncatedPng_InvalidArgumentNamingImageData()
    {
        var request = fleet.GoldenRequest(0);
        var png = request.Images[0].Data.ToByteArray();
        request.Images[0] = new Image { Data = ByteString.CopyFrom(png[..(png.Length / 2)]) };
        await AssertRejectedAsync(request, "images[0].data", reason: null);
    }

    [Fact]
    public async Task Describe_MaxTokensOverLimit_InvalidArgumentNamingMaxTokens()
    {
        var request = fleet.GoldenRequest(0);
        request.MaxTokens = 5000;
        await AssertRejectedAsync(request, "max_tokens", "INVALID_INPUT");
    }

    [Fact]
    public async Task Describe_PromptOverContext_InvalidArgumentPromptTooLong()
    {
        var request = fleet.GoldenRequest(0);
        request.Prompt = string.Join(' ', Enumerable.Repeat("What is in this picture?", 60));
        var status = await AssertRejectedAsync(request, "prompt", "PROMPT_TOO_LONG");
        Assert.Contains("255", status.Message);
    }

    [Fact]
    public async Task Describe_TemperatureFive_InvalidArgumentNamingTemperature()
    {
        var request = fleet.GoldenRequest(0);
        request.Temperature = 5;
        await AssertRejectedAsync(request, "temperature", "INVALID_INPUT");
    }

    [Fact]
    public async Task Describe_TopPAboveOne_InvalidArgumentNamingTopP()
    {
        var request = fleet.GoldenRequest(0);
        request.TopP = 1.5f;
        await AssertRejectedAsync(request, "top_p", "INVALID_INPUT");
    }

    [Fact]
    public async Task Describe_FiveStopStrings_InvalidArgumentNamingStop()
    {
        var request = fleet.GoldenRequest(0);
        request.Stop.Add(["a", "b", "c", "d", "e"]);
        await AssertRejectedAsync(request, "stop", "INVALID_INPUT");
    }

    [Fact]
    public async Task Describe_ImagePlaceholderInPrompt_InvalidArgumentNamingPrompt()
    {
        var request = fleet.GoldenRequest(0);
        request.Prompt = "<image> and what else?";
        await AssertRejectedAsync(request, "prompt", "INVALID_INPUT");
    }

    [Fact]
    public async Task DescribeStream_TemperatureFive_StreamFailsWithInvalidArgumentBeforeAnyMessage()
    {
        var request = VisionThroughGatewayTests.ToStream(fleet.GoldenRequest(0));
        request.Temperature = 5;
        using var call = fleet.Client.DescribeStream(request);

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(error.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations, v => v.Field == "temperature");
    }

    private async Task<Google.Rpc.Status> AssertRejectedAsync(DescribeRequest request, string field, string? reason)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => fleet.Client.DescribeAsync(request).ResponseAsync.DefaultTimeout());

        Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"expected INVALID_ARGUMENT, got {error.Status}");
        var status = error.GetRpcStatus() ?? throw new Xunit.Sdk.XunitException("no google.rpc.Status details: " + error.Status.Detail);
        var info = status.GetDetail<ErrorInfo>();
        Assert.Equal("multimodal", info.Domain);
        if (reason is not null)
            Assert.Equal(reason, info.Reason);
        Assert.Contains(status.GetDetail<BadRequest>().FieldViolations, v => v.Field == field);
        Assert.False(string.IsNullOrWhiteSpace(status.Message));
        var ok = await fleet.Client.DescribeAsync(fleet.GoldenRequest(1)).ResponseAsync.DefaultTimeout();
        Assert.Equal(fleet.GoldenText(1), ok.Text);
        return status;
    }
}
