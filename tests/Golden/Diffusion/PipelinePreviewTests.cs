using MultiModal.Models.Pipelines;
using MultiModal.Models.Runtime;
using MultiModal.Models.Schedulers;
using MultiModal.Tests.Testing;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Diffusion;

/// <summary>
/// Progress, previews and cancellation of <see cref="StableDiffusionPipeline.Generate"/> on tiny-sd (diffusers has no
/// previews to compare with: the approximate preview is checked against the formula on the same run's x̂₀).
/// </summary>
public sealed class PipelinePreviewTests(TinySdGenerators generators) : IClassFixture<TinySdGenerators>
{
    private static GenerationRequest Request(SchedulerKind scheduler, PreviewRequest preview, params ulong[] seeds) =>
        new("a red cube on a blue table", "", 0, 0, 4, 7.5, seeds, scheduler, null, 0, preview);

    [Theory]
    [InlineData(SchedulerKind.Default)]          // PNDM: x̂₀ computed by the pipeline from ε and ᾱ_t
    [InlineData(SchedulerKind.EulerAncestral)]   // x̂₀ from the scheduler step
    public void Generate_ApproximateEveryStep_IsTheLatentRgbFormulaOnX0(SchedulerKind scheduler)
    {
        var pipeline = generators.Pipeline("tiny-sd");
        var request = Request(scheduler, new PreviewRequest(1, PreviewKind.Approximate, 0), 5, 6);
        var steps = new List<DenoisingStep>();

        var output = pipeline.Generate(request, steps.Add, CancellationToken.None);

        // the same run through the golden entry point: the seeds' latents and step noise, drawn as Generate draws them
        using var g0 = new Generator(5, CPU);
        using var g1 = new Generator(6, CPU);
        using var latents = RandnTensor.Randn([2, 4, 32, 32], ScalarType.Float32, CPU, [g0, g1]);
        using var run = pipeline.Txt2ImgFromLatents(request, latents, new GeneratorNoise([g0, g1]));
        var warmup = pipeline.Schedule(request).WarmupEvaluations;       // PNDM: step 1 takes two UNet calls
        Assert.Equal(scheduler == SchedulerKind.Default ? 1 : 0, warmup);
        Assert.Equal(4, pipeline.StepsToRun(request));
        Assert.Equal([1, 2, 3, 4], steps.Select(s => s.Step));
        Assert.All(steps, s => Assert.Equal(4, s.TotalSteps));
        Assert.Equal(4, output.StepsRun);
        Assert.Equal(4 + warmup, run.PredictedOriginals.Count);
        for (var i = 0; i < steps.Count; i++)
        {
            var frame = steps[i].Preview!;
            var expected = LatentPreview.ApproximateRgb(run.PredictedOriginals[i + warmup]);
            Assert.Equal(2, frame.Images.Count);
            for (var b = 0; b < 2; b++)
            {
                Assert.Equal((32, 32), (frame.Images[b].Width, frame.Images[b].Height));
                var (mean, max) = ImageDiff.Levels(expected[b], frame.Images[b]);
                // The same formula on the same x̂₀, evaluated in another order: a value may round one level apart
                // (arithmetic, not a CPU calibration; measured 0 on AVX-512 and AVX2), rarely (mean < 0.01).
                BoundLog.AtMost($"{scheduler} step {i + 1} image {b} preview max levels", max, 1);
                BoundLog.AtMost($"{scheduler} step {i + 1} image {b} preview mean levels", mean, 0.01);
                Assert.True(max <= 1 && mean < 0.01, $"step {i + 1} image {b}: mean {mean} max {max}");
            }
        }
        var final = VaeImageProcessing.ToImages(run.Image);
        for (var b = 0; b < 2; b++)
            Assert.True(ImageDiff.Levels(final[b], output.Images[b]).Max <= 1);
    }

    [Fact]
    public void Generate_PreviewEveryThirdStep_ComesAtMultiplesAndAfterTheLast()
    {
        var pipeline = generators.Pipeline("tiny-sd");
        var steps = new List<DenoisingStep>();

        pipeline.Generate(Request(SchedulerKind.Ddim, new PreviewRequest(3, PreviewKind.Latents, 0), 1), steps.Add, CancellationToken.None);

        Assert.Equal([1, 2, 3, 4], steps.Select(s => s.Step));
        Assert.Equal([false, false, true, true], steps.Select(s => s.Preview is not null));
        var last = steps[^1].Preview!;
        Assert.Equal([1L, 4, 32, 32], last.LatentShape!);
        Assert.Equal(4 * 32 * 32, last.Latents!.Length);
        Assert.Empty(last.Images);
    }

    [Fact]
    public void Generate_FullDecodePreviewWithMaxSize_IsDownscaledDecode()
    {
        var pipeline = generators.Pipeline("tiny-sd");
        var steps = new List<DenoisingStep>();

        var output = pipeline.Generate(Request(SchedulerKind.Euler, new PreviewRequest(2, PreviewKind.FullDecode, 16), 3), steps.Add, CancellationToken.None);

        var previews = steps.Where(s => s.Preview is not null).Select(s => s.Preview!.Images.Single()).ToArray();
        Assert.Equal(2, previews.Length);
        Assert.All(previews, p => Assert.Equal((16, 16), (p.Width, p.Height)));
        Assert.Equal((64, 64), (output.Images[0].Width, output.Images[0].Height));
    }

    [Fact]
    public void Generate_PndmCancelledAtStep1_StopsAfterTwoUNetCalls()
    {
        // PNDM's first step evaluates twice; cancelling in its callback still stops before the next evaluation
        var pipeline = generators.Pipeline("tiny-sd");
        using var cts = new CancellationTokenSource();
        var seen = new List<int>();

        Assert.ThrowsAny<OperationCanceledException>(() => pipeline.Generate(Request(SchedulerKind.Pndm, PreviewRequest.None, 1),
            step =>
            {
                seen.Add(step.Step);
                cts.Cancel();
            }, cts.Token));

        Assert.Equal([1], seen);
    }

    [Fact]
    public void Generate_CancelledInOnStepAtStep2_StopsBeforeStep3()
    {
        var pipeline = generators.Pipeline("tiny-sd");
        using var cts = new CancellationTokenSource();
        var seen = new List<int>();

        Assert.ThrowsAny<OperationCanceledException>(() => pipeline.Generate(Request(SchedulerKind.Ddim, PreviewRequest.None, 1),
            step =>
            {
                seen.Add(step.Step);
                if (step.Step == 2) cts.Cancel();
            }, cts.Token));

        Assert.Equal([1, 2], seen);
    }

    [Fact]
    public void Generate_AlreadyCancelled_RunsNoStep()
    {
        var pipeline = generators.Pipeline("tiny-sd");
        var seen = 0;

        Assert.ThrowsAny<OperationCanceledException>(() =>
            pipeline.Generate(Request(SchedulerKind.Ddim, PreviewRequest.None, 1), _ => seen++, new CancellationToken(canceled: true)));

        Assert.Equal(0, seen);
    }

    [Fact]
    public void Generate_GuidanceOne_SkipsNegativePromptAndStillGenerates()
    {
        var pipeline = generators.Pipeline("tiny-sd");
        var noCfg = Request(SchedulerKind.Ddim, PreviewRequest.None, 9) with { GuidanceScale = 1.0, NegativePrompt = "blurry" };
        var otherNegative = noCfg with { NegativePrompt = "something else entirely" };

        var a = pipeline.Generate(noCfg, null, CancellationToken.None);
        var b = pipeline.Generate(otherNegative, null, CancellationToken.None);

        Assert.Equal(a.Images[0].Rgb, b.Images[0].Rgb);   // without guidance the negative prompt is not used
        var withCfg = pipeline.Generate(noCfg with { GuidanceScale = 7.5 }, null, CancellationToken.None);
        Assert.NotEqual(a.Images[0].Rgb, withCfg.Images[0].Rgb);
    }

    [Fact]
    public void Generate_PromptOver77Tokens_IsTruncatedAndReported()
    {
        var pipeline = generators.Pipeline("tiny-sd");
        var longPrompt = string.Join(" ", Enumerable.Repeat("red cube", 60));
        var request = Request(SchedulerKind.Ddim, PreviewRequest.None, 2) with { Prompt = longPrompt };

        var output = pipeline.Generate(request, null, CancellationToken.None);

        Assert.True(output.PromptTruncated);
        Assert.False(pipeline.Generate(request with { Prompt = "red cube" }, null, CancellationToken.None).PromptTruncated);
    }

    [Fact]
    public void Generate_Img2ImgWithExplicitSize_ResizesInitImage()
    {
        var pipeline = generators.Pipeline("tiny-sd");
        var init = TinySdGenerators.Png("tiny-sd", "img2img_init_64x64.png");
        var request = new GenerationRequest("a cat", "", 48, 32, 4, 7.5, [4], SchedulerKind.Default, init, 0.5, PreviewRequest.None);

        var output = pipeline.Generate(request, null, CancellationToken.None);

        Assert.Equal((48, 32), (output.Images[0].Width, output.Images[0].Height));
        Assert.Equal(pipeline.StepsToRun(request), output.StepsRun);
        Assert.Equal(SchedulerKind.Pndm, output.SchedulerUsed);
    }
}
