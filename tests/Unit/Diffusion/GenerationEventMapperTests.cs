using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Diffusion;
using MultiModal.Core.Inference.Jobs;
using MultiModal.Diffusion.Mapping;
using MultiModal.Models.Imaging;
using MultiModal.Models.Pipelines;
using MultiModal.Models.Schedulers;
using Xunit;
using PreviewFrame = MultiModal.Models.Pipelines.PreviewFrame;

namespace MultiModal.Tests.Unit.Diffusion;

public sealed class GenerationEventMapperTests
{
    private static readonly DiffusionOptions Options = new() { ModelPath = "unused" };

    private static DecodedImage Gradient(int width, int height)
    {
        var rgb = new byte[width * height * 3];
        for (var i = 0; i < rgb.Length; i++)
            rgb[i] = (byte)(i * 7 % 251);
        return new DecodedImage(width, height, rgb);
    }

    private static DiffusionJob Job(OutputFormat format = OutputFormat.Png, DecodedImage? init = null) => new(
        new GenerationRequest("a red cube", "blurry", 64, 48, 20, 7.5, [1234, 1235], SchedulerKind.Default, init,
            init is null ? 1.0 : 0.75, PreviewRequest.None),
        format, 20);

    private static JobCompleted<GenerationOutput> Completed(params DecodedImage[] images) => new(
        new GenerationOutput(images, PromptTruncated: true, StepsRun: 21, SchedulerKind.EulerAncestral,
            TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(30)),
        Queued: TimeSpan.FromSeconds(1), Ran: TimeSpan.FromMilliseconds(250),
        StartedUtc: new DateTime(2026, 11, 27, 1, 0, 0, DateTimeKind.Utc), FinishedUtc: new DateTime(2026, 11, 27, 1, 0, 0, 250, DateTimeKind.Utc));

    private static PreviewSlot<T> Slot<T>(T value) where T : class => new(value);

    [Fact]
    public void ToWire_CompletedPng_ImagesCarryA1111ParametersWithTheirOwnSeed()
    {
        var wire = GenerationEventMapper.ToWire(Completed(Gradient(64, 48), Gradient(64, 48)), Job(), "tiny-sd", Options);

        var result = wire.Result;
        Assert.Equal([1234ul, 1235ul], result.Seeds);
        Assert.All(result.Images, image => Assert.Equal(("image/png", 64u, 48u), (image.MimeType, image.Width, image.Height)));
        Assert.Equal(
            "a red cube\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 1235, Size: 64x48, Model: tiny-sd",
            PngTextChunks.Read(result.Images[1].Data.Span)["parameters"]);
        var decoded = ImageDecoder.Decode(result.Images[0].Data.Span, ImageLimits.Default);
        Assert.Equal(Gradient(64, 48).Rgb, decoded.Rgb);
        Assert.Equal((true, Scheduler.EulerAncestral, 21u), (result.PromptTruncated, result.Scheduler, result.StepsRun));
        Assert.Equal(TimeSpan.FromSeconds(1), result.Timings.Queued.ToTimeSpan());
        Assert.Equal(TimeSpan.FromMilliseconds(200), result.Timings.Denoise.ToTimeSpan());
        Assert.Equal(TimeSpan.FromMilliseconds(250), result.Timings.Total.ToTimeSpan());
        Assert.Equal(new DateTime(2026, 11, 27, 1, 0, 0, DateTimeKind.Utc), result.Timings.StartTime.ToDateTime());
        Assert.Equal(new DateTime(2026, 11, 27, 1, 0, 0, 250, DateTimeKind.Utc), result.Timings.EndTime.ToDateTime());
    }

    [Theory]
    [InlineData(OutputFormat.Jpeg, "image/jpeg")]
    [InlineData(OutputFormat.Webp, "image/webp")]
    public void ToWire_CompletedLossyFormat_EncodedAsAsked(OutputFormat format, string mimeType)
    {
        var wire = GenerationEventMapper.ToWire(Completed(Gradient(64, 48), Gradient(64, 48)), Job(format), "tiny-sd", Options);

        var image = wire.Result.Images[0];
        Assert.Equal(mimeType, image.MimeType);
        var decoded = ImageDecoder.Decode(image.Data.Span, ImageLimits.Default);
        Assert.Equal((64, 48), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void ToWire_ProgressWithImagePreview_JpegPerImage()
    {
        var frame = new PreviewFrame([Gradient(8, 6), Gradient(8, 6)], null, null);
        var progress = new JobProgress<PreviewFrame>(3, 20, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(17), Slot(frame));

        var wire = GenerationEventMapper.ToWire(progress, Job(), "tiny-sd", Options).Progress;

        Assert.Equal((3u, 20u), (wire.Step, wire.TotalSteps));
        Assert.Equal(TimeSpan.FromSeconds(17), wire.Eta.ToTimeSpan());
        Assert.Equal(2, wire.Preview.Images.Count);
        Assert.All(wire.Preview.Images, image => Assert.Equal(("image/jpeg", 8u, 6u), (image.MimeType, image.Width, image.Height)));
        Assert.Null(wire.Preview.Latents);
    }

    [Fact]
    public void ToWire_ProgressWithLatents_LittleEndianFloat32WithShape()
    {
        float[] latents = [1f, -2.5f, 0.125f, 3f];
        var progress = new JobProgress<PreviewFrame>(1, 2, TimeSpan.Zero, TimeSpan.Zero, Slot(new PreviewFrame([], latents, [1, 4, 1, 1])));

        var wire = GenerationEventMapper.ToWire(progress, Job(), "tiny-sd", Options).Progress.Preview.Latents;

        Assert.Equal([1L, 4, 1, 1], wire.Shape);
        Assert.Equal("float32", wire.Dtype);
        var bytes = wire.Data.ToByteArray();
        Assert.Equal(latents, Enumerable.Range(0, 4).Select(i => BitConverter.ToSingle(bytes, i * 4)));
    }

    [Fact]
    public void ToWire_ProgressWhosePreviewWasDropped_NoPreview()
    {
        var slot = Slot(new PreviewFrame([Gradient(8, 8)], null, null));
        slot.Take();

        var wire = GenerationEventMapper.ToWire(new JobProgress<PreviewFrame>(1, 2, TimeSpan.Zero, TimeSpan.Zero, slot), Job(), "m", Options);

        Assert.Null(wire.Progress.Preview);
    }

    [Fact]
    public void ToWire_QueuedWithoutEstimate_LeavesEstimatedWaitUnset()
    {
        Assert.Null(GenerationEventMapper.ToWire(new JobQueued(2, null), Job(), "m", Options).Queued.EstimatedWait);
        Assert.Equal(TimeSpan.FromSeconds(4),
            GenerationEventMapper.ToWire(new JobQueued(1, TimeSpan.FromSeconds(4)), Job(), "m", Options).Queued.EstimatedWait.ToTimeSpan());
    }

    [Fact]
    public void Format_Img2ImgWithoutNegativePrompt_AddsDenoisingStrengthAndSkipsNegativeLine()
    {
        var request = new GenerationRequest("a cat", "", 512, 512, 30, 7, [42], SchedulerKind.Default, Gradient(8, 8), 0.75, PreviewRequest.None);

        var text = GenerationParameters.Format(request, 42, SchedulerKind.Pndm, "sd15");

        Assert.Equal("a cat\nSteps: 30, Sampler: PLMS, CFG scale: 7, Seed: 42, Size: 512x512, Model: sd15, Denoising strength: 0.75", text);
    }
}
