using Google.Protobuf;
using Grpc.Core;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Core.Errors;
using MultiModal.Diffusion;
using MultiModal.Diffusion.Mapping;
using MultiModal.Models.Errors;
using MultiModal.Models.Imaging;
using MultiModal.Models.Pipelines;
using MultiModal.Models.Schedulers;
using Xunit;
using PreviewKind = MultiModal.Models.Pipelines.PreviewKind;
using WireImage = MultiModal.Contracts.Common.V1.Image;
using WirePreviewKind = MultiModal.Contracts.Diffusion.V1.PreviewKind;

namespace MultiModal.Tests.Unit.Diffusion;

public sealed class GenerateImageMapperTests
{
    // SD 1.5's shape: 512×512 native, VAE factor 8, 12-layer text encoder, 4 latent channels.
    private static readonly GenerationRules Sd15 = new(512, 512, 8, 12, 4);
    private static readonly DiffusionOptions Options = new() { ModelPath = "unused" };

    private static DiffusionJob Map(GenerateImageRequest request) => GenerateImageMapper.ToJob(request, Sd15, Options);

    private static IReadOnlyList<string> RejectedFields(GenerateImageRequest request)
    {
        var error = Assert.Throws<InferenceException>(() => Map(request));
        Assert.Equal(StatusCode.InvalidArgument, error.Code);
        return [.. error.FieldViolations.Select(v => v.Field)];
    }

    private static WireImage Png(int width, int height) =>
        new() { Data = ByteString.CopyFrom(ImageEncoder.EncodePng(new DecodedImage(width, height, new byte[width * height * 3]))) };

    [Fact]
    public void ToJob_PromptOnly_AppliesDiffusersDefaults()
    {
        var job = Map(new GenerateImageRequest { Prompt = "a cat" });

        var r = job.Request;
        Assert.Equal((512, 512, 50, 7.5), (r.Width, r.Height, r.Steps, r.GuidanceScale));
        Assert.Equal(SchedulerKind.Default, r.Scheduler);
        Assert.Single(r.Seeds);
        Assert.True(r.Seeds[0] < 1ul << 32);
        Assert.Null(r.InitImage);
        Assert.False(r.Preview.Enabled);
        Assert.Equal(OutputFormat.Png, job.OutputFormat);
        Assert.Equal(50, job.StepsToRun);
    }

    [Fact]
    public void ToJob_SeedAndThreeImages_SeedsCountUpFromIt()
    {
        var job = Map(new GenerateImageRequest { Prompt = "a cat", Seed = 1234, NumImages = 3 });

        Assert.Equal([1234ul, 1235ul, 1236ul], job.Request.Seeds);
        Assert.Equal(3, job.Items);
    }

    [Fact]
    public void ToJob_ExplicitSettings_MapsEveryField()
    {
        var job = Map(new GenerateImageRequest
        {
            Prompt = "a cat", NegativePrompt = "blurry", Width = 640, Height = 384, Steps = 20, GuidanceScale = 6.1f,
            Scheduler = Scheduler.Dpmpp2MKarras, OutputFormat = OutputFormat.Webp,
            Preview = new PreviewOptions { EveryNSteps = 5, Kind = WirePreviewKind.FullDecode, MaxSize = 256 },
        });

        var r = job.Request;
        Assert.Equal(("blurry", 640, 384, 20, 6.1), (r.NegativePrompt, r.Width, r.Height, r.Steps, r.GuidanceScale));
        Assert.Equal(SchedulerKind.DpmPP2MKarras, r.Scheduler);
        Assert.Equal(new PreviewRequest(5, PreviewKind.FullDecode, 256), r.Preview);
        Assert.Equal(OutputFormat.Webp, job.OutputFormat);
    }

    [Fact]
    public void ToJob_PreviewEveryStepWithoutKindOrSize_ApproximateAtServerLimit()
    {
        var job = Map(new GenerateImageRequest { Prompt = "a cat", Steps = 10, Preview = new PreviewOptions { EveryNSteps = 1 } });

        Assert.Equal(new PreviewRequest(1, PreviewKind.Approximate, Options.PreviewMaxSize), job.Request.Preview);
    }

    [Theory]
    [InlineData(100u, 512u, "width")]
    [InlineData(512u, 4u, "height")]
    [InlineData(8192u, 8u, "width")]
    public void ToJob_BadSide_RejectsThatSide(uint width, uint height, string field) =>
        Assert.Equal([field], RejectedFields(new GenerateImageRequest { Prompt = "a cat", Width = width, Height = height }));

    [Fact]
    public void ToJob_OverPixelLimit_RejectsWidthAndHeight()
    {
        var error = Assert.Throws<InferenceException>(() => Map(new GenerateImageRequest { Prompt = "a cat", Width = 2048, Height = 2048 }));

        Assert.Equal(["width", "height"], error.FieldViolations.Select(v => v.Field));
        Assert.Contains("4194304", error.Message);
    }

    [Fact]
    public void ToJob_ManyBadFields_RejectsThemAllAtOnce()
    {
        var fields = RejectedFields(new GenerateImageRequest
        {
            Prompt = " ", Steps = 1000, NumImages = 50, GuidanceScale = 31, Scheduler = (Scheduler)99,
            OutputFormat = (OutputFormat)42, Strength = 0.5f,
            Preview = new PreviewOptions { EveryNSteps = 2000, Kind = (WirePreviewKind)9, MaxSize = 4096 },
        });

        Assert.Equal(
            ["prompt", "steps", "num_images", "guidance_scale", "scheduler", "output_format", "strength",
             "preview.kind", "preview.every_n_steps", "preview.max_size"],
            fields);
    }

    [Fact]
    public void ToJob_NegativeGuidance_Rejected() =>
        Assert.Equal(["guidance_scale"], RejectedFields(new GenerateImageRequest { Prompt = "a cat", GuidanceScale = -1 }));

    [Fact]
    public void ToJob_ZeroGuidanceSet_KeptAsZero() =>
        Assert.Equal(0, Map(new GenerateImageRequest { Prompt = "a cat", GuidanceScale = 0 }).Request.GuidanceScale);

    [Fact]
    public void ToJob_InitImageWithoutSize_UsesItsSizeRoundedDownAndDefaultStrength()
    {
        var job = Map(new GenerateImageRequest { Prompt = "a cat", Steps = 10, InitImage = Png(203, 150) });

        var r = job.Request;
        Assert.Equal((200, 144), (r.Width, r.Height));
        Assert.Equal((203, 150), (r.InitImage!.Width, r.InitImage.Height));
        Assert.Equal(0.8, r.Strength);
        Assert.Equal(8, job.StepsToRun);
    }

    [Fact]
    public void ToJob_StrengthFromFloat_CountsStepsAsPythonDoes()
    {
        // 0.7f is 0.699999988; ⌊10 × that⌋ would be 6 where diffusers (Python doubles) runs 7.
        var job = Map(new GenerateImageRequest { Prompt = "a cat", Steps = 10, Strength = 0.7f, InitImage = Png(64, 64) });

        Assert.Equal(0.7, job.Request.Strength);
        Assert.Equal(7, job.StepsToRun);
    }

    [Theory]
    [InlineData(2f)]
    [InlineData(-0.5f)]
    [InlineData(float.NaN)]
    public void ToJob_StrengthOutOfRangeWithInitImage_RejectsStrength(float strength) =>
        Assert.Equal(["strength"], RejectedFields(new GenerateImageRequest { Prompt = "a cat", Strength = strength, InitImage = Png(64, 64) }));

    [Fact]
    public void ToJob_StrengthTooSmallForSteps_RejectsStrength() =>
        Assert.Equal(["strength"], RejectedFields(new GenerateImageRequest { Prompt = "a cat", Steps = 4, Strength = 0.2f, InitImage = Png(64, 64) }));

    [Fact]
    public void ToJob_CorruptInitImage_RejectedAsUnsupportedFormatOnInitImageData()
    {
        var request = new GenerateImageRequest { Prompt = "a cat", InitImage = new WireImage { Data = ByteString.CopyFrom(new byte[100]) } };

        var error = Assert.Throws<InputRejectedException>(() => Map(request));

        Assert.Equal(("init_image.data", InputRejection.UnsupportedImageFormat), (error.Field, error.Kind));
    }

    [Fact]
    public void ToJob_EmptyInitImage_RejectsInitImageData() =>
        Assert.Equal(["init_image.data"], RejectedFields(new GenerateImageRequest { Prompt = "a cat", InitImage = new WireImage() }));

    [Fact]
    public void ToJob_InitImageSmallerThanEight_RejectedByPipelineRules()
    {
        var error = Assert.Throws<InputRejectedException>(() => Map(new GenerateImageRequest { Prompt = "a cat", InitImage = Png(4, 64) }));

        Assert.Equal("init_image", error.Field);
    }

    [Fact]
    public void ToJob_InitImageOverPixelLimit_RejectsInitImage() =>
        Assert.Equal(["init_image"], RejectedFields(new GenerateImageRequest { Prompt = "a cat", InitImage = Png(1600, 1600) }));

    [Fact]
    public void ToJob_PromptOverContextLength_AcceptedForTheTokenizerToTruncate()
    {
        var prompt = string.Join(' ', Enumerable.Repeat("cat", 300));

        Assert.Equal(prompt, Map(new GenerateImageRequest { Prompt = prompt }).Request.Prompt);
    }

    [Theory]
    [InlineData(0.7f, 0.7)]
    [InlineData(7.5f, 7.5)]
    [InlineData(6.1f, 6.1)]
    public void FromWire_Float_GivesTheShortestDecimal(float value, double expected) =>
        Assert.Equal(expected, GenerateImageMapper.FromWire(value));
}
