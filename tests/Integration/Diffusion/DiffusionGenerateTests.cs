using System.Text.Json;
using Google.Protobuf;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Models.Imaging;
using MultiModal.Tests.Testing;
using Xunit;
using static MultiModal.Tests.Integration.Diffusion.DiffusionStreams;
using EventCase = MultiModal.Contracts.Diffusion.V1.GenerateImageResponse.EventOneofCase;
using Image = MultiModal.Contracts.Common.V1.Image;

namespace MultiModal.Tests.Integration.Diffusion;

/// <summary>Generations through the gateway: the stream's shape, previews, img2img, and diffusers' seeded images.</summary>
[Collection(DiffusionFleetCollection.Name)]
public sealed class DiffusionGenerateTests(DiffusionFleetFixture fleet)
{
    // Golden README: the same pipeline on another BLAS may move a few 8-bit pixel values by rounding; a wrong seed,
    // scheduler or CFG changes the picture completely. Its full-pipeline image atol (2e-3 = 0.51 level) lets a value
    // round at most 1 level away from the golden PNG (was 8, undocumented; measured 1 on AVX-512 and AVX2).
    private const double MaxMeanAbsDiff = 0.5;
    private const int MaxAbsDiff = 1;

    // tiny-sd's VAE downsamples by 2: 64×64 images, 32×32 latents.
    private const int Side = 64;
    private const int LatentSide = 32;

    [Fact]
    public async Task GenerateImage_PreviewEveryStep_QueuedThenProgressWithPreviewEveryStepThenOneResultLast()
    {
        var request = new GenerateImageRequest
        {
            Prompt = "a photo of an astronaut riding a horse", Steps = 5, Seed = 3, Scheduler = Scheduler.Euler,
            Preview = new PreviewOptions { EveryNSteps = 1 },
        };

        var events = await ReadAllAsync(fleet.Client.GenerateImage(request));

        Assert.Equal(EventCase.Queued, events[0].EventCase);
        Assert.Equal(0u, events[0].Queued.Position);
        var progress = events.Skip(1).TakeWhile(e => e.EventCase == EventCase.Progress).Select(e => e.Progress).ToList();
        Assert.Equal([1u, 2, 3, 4, 5], progress.Select(p => p.Step));
        Assert.All(progress, p =>
        {
            Assert.Equal(5u, p.TotalSteps);
            var preview = Assert.Single(p.Preview.Images);
            Assert.Equal(("image/jpeg", (uint)LatentSide, (uint)LatentSide), (preview.MimeType, preview.Width, preview.Height));
            Assert.Equal((LatentSide, LatentSide), (Decode(preview).Width, Decode(preview).Height));
        });
        Assert.True(progress.Zip(progress.Skip(1)).All(p => p.First.Elapsed.ToTimeSpan() <= p.Second.Elapsed.ToTimeSpan()));
        var result = SingleResultLast(events);
        Assert.Equal(1 + 5 + 1, events.Count);
        var image = Assert.Single(result.Images);
        Assert.Equal(("image/png", (uint)Side, (uint)Side), (image.MimeType, image.Width, image.Height));
        Assert.Equal([3ul], result.Seeds);
        Assert.Equal((Scheduler.Euler, 5u, false), (result.Scheduler, result.StepsRun, result.PromptTruncated));
        Assert.True(result.Timings.Total.ToTimeSpan() >= result.Timings.Denoise.ToTimeSpan());
        var wallTime = result.Timings.EndTime.ToDateTime() - result.Timings.StartTime.ToDateTime();
        // Not a speed bound: start, end and total come from the same two Stopwatch timestamps; only their conversion to
        // protobuf Timestamp/Duration (ns) and DateTime (100 ns ticks) rounds.
        Assert.InRange((wallTime - result.Timings.Total.ToTimeSpan()).Duration(), TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
        Assert.Equal(
            "a photo of an astronaut riding a horse\nSteps: 5, Sampler: Euler, CFG scale: 7.5, Seed: 3, Size: 64x64, Model: tiny-sd",
            PngTextChunks.Read(image.Data.Span)["parameters"]);
    }

    [Theory]
    [InlineData(PreviewKind.FullDecode, 0u, Side)]
    [InlineData(PreviewKind.FullDecode, 16u, 16)]
    [InlineData(PreviewKind.Approximate, 8u, 8)]
    public async Task GenerateImage_ImagePreviews_SizedByKindAndMaxSize(PreviewKind kind, uint maxSize, int expectedSide)
    {
        var request = new GenerateImageRequest
        {
            Prompt = "a red cube", Steps = 4, NumImages = 2, Scheduler = Scheduler.Ddim,
            Preview = new PreviewOptions { EveryNSteps = 2, Kind = kind, MaxSize = maxSize },
        };

        var events = await ReadAllAsync(fleet.Client.GenerateImage(request));

        var withPreview = events.Where(e => e.Progress?.Preview is not null).Select(e => e.Progress).ToList();
        Assert.Equal([2u, 4u], withPreview.Select(p => p.Step));
        Assert.All(withPreview.SelectMany(p => p.Preview.Images), preview =>
            Assert.Equal(((uint)expectedSide, (uint)expectedSide), (preview.Width, preview.Height)));
        Assert.All(withPreview, p => Assert.Equal(2, p.Preview.Images.Count));
        Assert.Equal(2, SingleResultLast(events).Images.Count);
    }

    [Fact]
    public async Task GenerateImage_LatentPreviews_RawFloat32WithShape()
    {
        var request = new GenerateImageRequest
        {
            Prompt = "a red cube", Steps = 3, NumImages = 2, Scheduler = Scheduler.Euler,
            Preview = new PreviewOptions { EveryNSteps = 3, Kind = PreviewKind.Latents },
        };

        var events = await ReadAllAsync(fleet.Client.GenerateImage(request));

        var latents = Assert.Single(events, e => e.Progress?.Preview is not null).Progress.Preview.Latents;
        Assert.Equal([2L, 4, LatentSide, LatentSide], latents.Shape);
        Assert.Equal("float32", latents.Dtype);
        Assert.Equal(2 * 4 * LatentSide * LatentSide * sizeof(float), latents.Data.Length);
        var values = Enumerable.Range(0, latents.Data.Length / 4).Select(i => BitConverter.ToSingle(latents.Data.Span[(i * 4)..])).ToList();
        Assert.All(values, v => Assert.True(float.IsFinite(v)));
        Assert.True(values.Max() - values.Min() > 0.1, "latents look constant");
    }

    public static TheoryData<string> SeededCases() => [.. SeededCase.All.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(SeededCases))]
    public async Task GenerateImage_SeededGoldenCase_EqualsDiffusersPngs(string name)
    {
        var golden = SeededCase.All.Single(c => c.Name == name);

        var events = await ReadAllAsync(fleet.Client.GenerateImage(golden.ToRequest()));

        var result = SingleResultLast(events);
        Assert.Equal(golden.Seeds, result.Seeds);
        Assert.Equal(golden.Files.Length, result.Images.Count);
        for (var i = 0; i < golden.Files.Length; i++)
        {
            var expected = ImageDecoder.Decode(File.ReadAllBytes(TestPaths.Fixture("tiny-sd", golden.Files[i])), ImageLimits.Default);
            AssertPixelsClose(expected, Decode(result.Images[i]), $"{name} image {i}");
            Assert.Contains($"Seed: {golden.Seeds[i]},", PngTextChunks.Read(result.Images[i].Data.Span)["parameters"]);
        }
        var progress = events.Where(e => e.EventCase == EventCase.Progress).ToList();
        Assert.Equal(result.StepsRun, (uint)progress.Count);
        Assert.Equal(result.StepsRun, progress[^1].Progress.TotalSteps);
    }

    [Fact]
    public async Task GenerateImage_NoSeed_ReportsARandomSeedThatReproducesTheImage()
    {
        var request = new GenerateImageRequest { Prompt = "a blue table", Steps = 3, Scheduler = Scheduler.EulerAncestral };

        var first = SingleResultLast(await ReadAllAsync(fleet.Client.GenerateImage(request)));
        request.Seed = first.Seeds[0];
        var again = SingleResultLast(await ReadAllAsync(fleet.Client.GenerateImage(request)));

        Assert.Equal(Decode(first.Images[0]).Rgb, Decode(again.Images[0]).Rgb);
    }

    [Fact]
    public async Task GenerateImage_Img2ImgJpeg_InitImageSizeAndStrengthTail()
    {
        var request = new GenerateImageRequest
        {
            Prompt = "a oil painting of a cat", Steps = 10, Strength = 0.5f, Seed = 5, Scheduler = Scheduler.Ddim,
            InitImage = new Image { Data = ByteString.CopyFrom(File.ReadAllBytes(TestPaths.Fixture("tiny-sd", "img2img_init_64x64.png"))) },
            OutputFormat = OutputFormat.Jpeg,
        };

        var events = await ReadAllAsync(fleet.Client.GenerateImage(request));

        var result = SingleResultLast(events);
        var image = Assert.Single(result.Images);
        Assert.Equal(("image/jpeg", 64u, 64u), (image.MimeType, image.Width, image.Height));
        Assert.Equal((64, 64), (Decode(image).Width, Decode(image).Height));
        Assert.Equal(5u, result.StepsRun); // ⌊10 × 0.5⌋ of DDIM's 10 steps
        Assert.Equal(5, events.Count(e => e.EventCase == EventCase.Progress));
    }

    [Fact]
    public async Task GenerateImage_PromptOverContextLength_TruncatedAndReported()
    {
        var request = new GenerateImageRequest { Prompt = string.Join(' ', Enumerable.Repeat("cat", 100)), Steps = 1 };

        var result = SingleResultLast(await ReadAllAsync(fleet.Client.GenerateImage(request)));

        Assert.True(result.PromptTruncated);
    }

    [Fact]
    public async Task GetModelInfo_TinySd_DescribesModelSchedulersAndLimits()
    {
        var info = await fleet.InfoAsync();

        Assert.Equal("tiny-sd", info.ModelName);
        Assert.Equal(((uint)Side, (uint)Side), (info.NativeWidth, info.NativeHeight));
        Assert.Equal(Scheduler.Pndm, info.DefaultScheduler);
        Assert.Equal(8, info.Schedulers.Count);
        Assert.DoesNotContain(Scheduler.Unspecified, info.Schedulers);
        Assert.Equal("epsilon", info.PredictionType);
        Assert.Equal((1024u * 1024, (uint)DiffusionFleetFixture.MaxSteps, 4u, (uint)DiffusionFleetFixture.MaxQueueLength),
            (info.MaxPixels, info.MaxSteps, info.MaxImages, info.MaxQueueLength));
        Assert.Equal(("cpu", "float32"), (info.Device, info.Dtype));
        Assert.NotNull(info.Stats);
    }

    private static void AssertPixelsClose(DecodedImage expected, DecodedImage actual, string what)
    {
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        var diffs = expected.Rgb.Zip(actual.Rgb, (e, a) => Math.Abs(e - a)).ToArray();
        Assert.True(diffs.Average() <= MaxMeanAbsDiff && diffs.Max() <= MaxAbsDiff,
            $"{what}: mean abs diff {diffs.Average():F3} (≤ {MaxMeanAbsDiff}), max {diffs.Max()} (≤ {MaxAbsDiff})");
    }

    /// <summary>One case of tiny-sd/seeded.json: diffusers called with per-image CPU generators.</summary>
    private sealed record SeededCase(string Name, GenerateImageRequest Request, ulong[] Seeds, string[] Files)
    {
        public static IReadOnlyList<SeededCase> All { get; } = Load();

        public GenerateImageRequest ToRequest() => Request.Clone();

        private static List<SeededCase> Load()
        {
            using var json = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("tiny-sd", "seeded.json")));
            var init = File.ReadAllBytes(TestPaths.Fixture("tiny-sd", json.RootElement.GetProperty("init_image").GetString()!));
            return [.. json.RootElement.GetProperty("cases").EnumerateArray().Select(c =>
            {
                var request = new GenerateImageRequest
                {
                    Prompt = c.GetProperty("prompt").GetString(),
                    NegativePrompt = c.GetProperty("negative_prompt").GetString(),
                    Seed = c.GetProperty("seed").GetUInt64(),
                    Steps = c.GetProperty("steps").GetUInt32(),
                    GuidanceScale = c.GetProperty("guidance_scale").GetSingle(),
                    Scheduler = Enum.Parse<Scheduler>(c.GetProperty("scheduler").GetString()!["SCHEDULER_".Length..].Replace("_", ""), ignoreCase: true),
                    NumImages = c.GetProperty("num_images").GetUInt32(),
                    Width = c.GetProperty("width").GetUInt32(),
                    Height = c.GetProperty("height").GetUInt32(),
                };
                if (c.GetProperty("mode").GetString() == "img2img")
                {
                    request.InitImage = new Image { Data = ByteString.CopyFrom(init) };
                    request.Strength = c.GetProperty("strength").GetSingle();
                }
                return new SeededCase(
                    c.GetProperty("name").GetString()!, request,
                    [.. c.GetProperty("seeds").EnumerateArray().Select(s => s.GetUInt64())],
                    [.. c.GetProperty("files").EnumerateArray().Select(f => f.GetString()!)]);
            })];
        }
    }
}
