using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Tests.Testing;
using Xunit;
using static MultiModal.Tests.Integration.Diffusion.DiffusionStreams;
using Image = MultiModal.Contracts.Common.V1.Image;

namespace MultiModal.Tests.Integration.Diffusion;

/// <summary>Bad requests get INVALID_ARGUMENT naming every bad field, never take a place in the queue, and the service keeps serving.</summary>
[Collection(DiffusionFleetCollection.Name)]
public sealed class DiffusionBadInputTests(DiffusionFleetFixture fleet)
{
    private static Image InitImage() =>
        new() { Data = ByteString.CopyFrom(File.ReadAllBytes(TestPaths.Fixture("tiny-sd", "img2img_init_64x64.png"))) };

    [Fact]
    public async Task GenerateImage_Width100_InvalidArgumentNamingWidth() =>
        await AssertRejectedAsync(new GenerateImageRequest { Prompt = "a cat", Width = 100 }, ["width"]);

    [Fact]
    public async Task GenerateImage_StepsOverMaxSteps_InvalidArgumentNamingSteps() =>
        await AssertRejectedAsync(new GenerateImageRequest { Prompt = "a cat", Steps = DiffusionFleetFixture.MaxSteps + 1 }, ["steps"]);

    [Fact]
    public async Task GenerateImage_FiftyImages_InvalidArgumentNamingNumImages() =>
        await AssertRejectedAsync(new GenerateImageRequest { Prompt = "a cat", NumImages = 50 }, ["num_images"]);

    [Fact]
    public async Task GenerateImage_StrengthTwoWithInitImage_InvalidArgumentNamingStrength() =>
        await AssertRejectedAsync(new GenerateImageRequest { Prompt = "a cat", Strength = 2, InitImage = InitImage() }, ["strength"]);

    [Fact]
    public async Task GenerateImage_CorruptInitImage_UnsupportedImageFormatOnInitImageData()
    {
        var garbage = new byte[2048];
        new Random(3).NextBytes(garbage);

        await AssertRejectedAsync(new GenerateImageRequest { Prompt = "a cat", InitImage = new Image { Data = ByteString.CopyFrom(garbage) } },
            ["init_image.data"], "UNSUPPORTED_IMAGE_FORMAT");
    }

    [Fact]
    public async Task GenerateImage_EmptyPrompt_InvalidArgumentNamingPrompt() =>
        await AssertRejectedAsync(new GenerateImageRequest { Steps = 1 }, ["prompt"]);

    [Fact]
    public async Task GenerateImage_2048Squared_InvalidArgumentNamingWidthAndHeight() =>
        await AssertRejectedAsync(new GenerateImageRequest { Prompt = "a cat", Width = 2048, Height = 2048 }, ["width", "height"]);

    [Fact]
    public async Task GenerateImage_SeveralBadFields_AllNamedAtOnce() =>
        await AssertRejectedAsync(new GenerateImageRequest
        {
            Prompt = "a cat", Steps = 10, GuidanceScale = 50, Scheduler = (Scheduler)77,
            Preview = new PreviewOptions { EveryNSteps = 11, MaxSize = 5000 },
        }, ["guidance_scale", "scheduler", "preview.every_n_steps", "preview.max_size"]);

    private async Task AssertRejectedAsync(GenerateImageRequest request, string[] fields, string reason = "INVALID_INPUT")
    {
        var before = await fleet.InfoAsync();

        using var call = fleet.Client.GenerateImage(request);
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext().DefaultTimeout());

        Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"expected INVALID_ARGUMENT, got {error.Status}");
        var status = error.GetRpcStatus() ?? throw new Xunit.Sdk.XunitException("no google.rpc.Status details: " + error.Status.Detail);
        var info = status.GetDetail<ErrorInfo>();
        Assert.Equal(("multimodal", reason), (info.Domain, info.Reason));
        Assert.Equal(fields, status.GetDetail<BadRequest>().FieldViolations.Select(v => v.Field));
        var after = await fleet.InfoAsync();
        Assert.Equal(before.Stats.RequestsAccepted, after.Stats.RequestsAccepted);
        var ok = await ReadAllAsync(fleet.Client.GenerateImage(new GenerateImageRequest { Prompt = "still here", Steps = 1 }));
        Assert.Single(SingleResultLast(ok).Images);
    }
}
