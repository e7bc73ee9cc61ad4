using MultiModal.Models.Pipelines;
using MultiModal.Models.Schedulers;
using MultiModal.Tests.Testing;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Diffusion;

/// <summary>
/// Whole pipelines against diffusers 0.25.1 (golden.safetensors): txt2img from the recorded <c>latents=</c> for every
/// scheduler the golden ran, and img2img with the recorded noise and the posterior mean (the golden's two patches).
/// Tolerances from the README's "full pipelines" (float32 vs float64 of the reference differs by ≤ 3.6e-6 on images,
/// ≤ 2.1e-4 on latents reaching |x| ≈ 60): images atol 2e-3 and mean abs ≤ 2e-4; latents atol 1e-3 + rtol 1e-3.
/// </summary>
public sealed class PipelineGoldenTests(TinySdGenerators generators, ITestOutputHelper output) : IClassFixture<TinySdGenerators>
{
    private const double ImageAtol = 2e-3, ImageMeanAbs = 2e-4, LatentAtol = 1e-3, LatentRtol = 1e-3;

    public static TheoryData<string, string> Txt2ImgRuns => Runs("txt2img.");
    public static TheoryData<string, string> Img2ImgRuns => Runs("img2img.");

    [Theory]
    [MemberData(nameof(Txt2ImgRuns))]
    public void Txt2Img_RecordedLatents_MatchesDiffusersStepsAndImage(string fixture, string run)
    {
        var pipeline = generators.Pipeline(fixture);
        var golden = generators.Tensors(fixture, "golden.safetensors");
        var spec = TinySdGenerators.Json(fixture, "golden.json").GetProperty("runs").GetProperty(run);
        var kind = run["txt2img.".Length..] switch
        {
            "euler" => SchedulerKind.Euler,
            "ddim" => SchedulerKind.Ddim,
            _ => SchedulerKind.Default, // "pndm" / "default": the folder's own scheduler
        };
        var request = TinySdGenerators.Request(spec, kind, [0]);

        using var result = pipeline.Txt2ImgFromLatents(request, golden[$"{run}.latents_in"]);

        using var expectedSteps = golden[$"{run}.step_latents"];
        Assert.Equal(expectedSteps.shape[0], result.StepLatents.Count);
        using var actualSteps = stack(result.StepLatents);
        output.WriteLine($"{fixture} {run}: step_latents max abs {DiffAssert.MaxAbs(expectedSteps, actualSteps)}");
        TensorAssert.Close(expectedSteps, actualSteps, LatentAtol, LatentRtol, $"{run}.step_latents");
        AssertImage(golden[$"{run}.image"], result.Image, $"{fixture} {run}");
    }

    [Theory]
    [MemberData(nameof(Img2ImgRuns))]
    public void Img2Img_RecordedNoiseAndPosteriorMean_MatchesDiffusers(string fixture, string run)
    {
        var pipeline = generators.Pipeline(fixture);
        var golden = generators.Tensors(fixture, "golden.safetensors");
        var spec = TinySdGenerators.Json(fixture, "golden.json").GetProperty("runs").GetProperty(run);
        var init = TinySdGenerators.Png(fixture, spec.GetProperty("init_image").GetString()!);
        var request = TinySdGenerators.Request(spec, SchedulerKind.Default, [0], init);

        using (var preprocessed = VaeImageProcessing.Preprocess(init, init.Width, init.Height, CPU, ScalarType.Float32))
            TensorAssert.Close(golden[$"{run}.preprocessed_image"], preprocessed, 0, 0, $"{run}.preprocessed_image");
        using var result = pipeline.Img2ImgFromNoise(request, golden[$"{run}.noise"]);

        TensorAssert.Close(golden[$"{run}.init_latents"], result.InitLatents!, LatentAtol, LatentRtol, $"{run}.init_latents");
        TensorAssert.Close(golden[$"{run}.noised_latents"], result.StartLatents, LatentAtol, LatentRtol, $"{run}.noised_latents");
        using var expectedSteps = golden[$"{run}.step_latents"];
        Assert.Equal(expectedSteps.shape[0], result.StepLatents.Count);
        Assert.Equal(result.StepLatents.Count, pipeline.Schedule(request).Timesteps.Count);
        Assert.Equal(spec.GetProperty("timesteps_used").GetArrayLength(), result.StepLatents.Count);
        using var actualSteps = stack(result.StepLatents);
        output.WriteLine($"{fixture} {run}: step_latents max abs {DiffAssert.MaxAbs(expectedSteps, actualSteps)}");
        TensorAssert.Close(expectedSteps, actualSteps, LatentAtol, LatentRtol, $"{run}.step_latents");
        AssertImage(golden[$"{run}.image"], result.Image, $"{fixture} {run}");
    }

    private void AssertImage(Tensor expected, Tensor actual, string what)
    {
        using (expected)
        {
            using var diff = (actual - expected).abs();
            var mean = diff.mean().item<float>();
            output.WriteLine($"{what}: image max abs {diff.max().item<float>():G3}, mean abs {mean:G3}");
            TensorAssert.Close(expected, actual, ImageAtol, 0, $"{what} image");
            Assert.True(mean <= ImageMeanAbs, $"{what}: image mean abs {mean} > {ImageMeanAbs}");
        }
    }

    private static TheoryData<string, string> Runs(string prefix)
    {
        var data = new TheoryData<string, string>();
        foreach (var fixture in new[] { "tiny-sd", "tiny-sd2-v" })
            foreach (var run in TinySdGenerators.Json(fixture, "golden.json").GetProperty("runs").EnumerateObject())
                if (run.Name.StartsWith(prefix, StringComparison.Ordinal))
                    data.Add(fixture, run.Name);
        return data;
    }
}
