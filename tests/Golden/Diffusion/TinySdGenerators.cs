using System.Collections.Concurrent;
using System.Text.Json;
using MultiModal.Models.Imaging;
using MultiModal.Models.Pipelines;
using MultiModal.Models.Schedulers;
using MultiModal.Tests.Testing;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Diffusion;

/// <summary>
/// <see cref="StableDiffusionPipeline"/>s over the tiny-sd and tiny-sd2-v fixture folders (float32, CPU), loaded once
/// per test class, with the goldens diffusers 0.25.1 made from them.
/// </summary>
public sealed class TinySdGenerators : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<StableDiffusionPipeline>> _pipelines = new();
    private readonly ConcurrentDictionary<string, Lazy<GoldenTensors>> _tensors = new();

    public StableDiffusionPipeline Pipeline(string fixture) =>
        _pipelines.GetOrAdd(fixture, f => new Lazy<StableDiffusionPipeline>(() =>
            StableDiffusionPipeline.Load(TinySdPipelines.PipelineFolder(f), CPU, ScalarType.Float32))).Value;

    /// <summary>golden.safetensors or seeded.safetensors of <paramref name="fixture"/>.</summary>
    public GoldenTensors Tensors(string fixture, string file) =>
        _tensors.GetOrAdd($"{fixture}/{file}", _ => new Lazy<GoldenTensors>(() => new GoldenTensors(TestPaths.Fixture(fixture, file)))).Value;

    public static JsonElement Json(string fixture, string file) =>
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture(fixture, file)).Replace("-Infinity", "null").Replace("Infinity", "null")).RootElement.Clone();

    public static DecodedImage Png(string fixture, string file) =>
        ImageDecoder.Decode(File.ReadAllBytes(TestPaths.Fixture(fixture, file)), ImageLimits.Default);

    /// <summary>The request a golden run / seeded case describes.</summary>
    public static GenerationRequest Request(JsonElement run, SchedulerKind scheduler, IReadOnlyList<ulong> seeds, DecodedImage? init = null) =>
        new(run.GetProperty("prompt").GetString()!, run.GetProperty("negative_prompt").GetString()!,
            run.TryGetProperty("width", out var w) ? w.GetInt32() : 0, run.TryGetProperty("height", out var h) ? h.GetInt32() : 0,
            run.GetProperty(run.TryGetProperty("num_inference_steps", out _) ? "num_inference_steps" : "steps").GetInt32(),
            run.GetProperty("guidance_scale").GetDouble(), seeds, scheduler, init,
            run.TryGetProperty("strength", out var s) ? s.GetDouble() : 0, PreviewRequest.None);

    /// <summary>seeded.json's scheduler names (the service enum's) → <see cref="SchedulerKind"/>.</summary>
    public static SchedulerKind KindOf(string protoName) => protoName switch
    {
        "SCHEDULER_UNSPECIFIED" => SchedulerKind.Default,
        "SCHEDULER_EULER_ANCESTRAL" => SchedulerKind.EulerAncestral,
        "SCHEDULER_DPMPP_2M_KARRAS" => SchedulerKind.DpmPP2MKarras,
        _ => throw new Xunit.Sdk.XunitException($"unmapped scheduler {protoName}"),
    };

    public void Dispose()
    {
        foreach (var p in _pipelines.Values.Where(l => l.IsValueCreated))
            p.Value.Dispose();
    }
}

/// <summary>Comparisons of 8-bit images.</summary>
internal static class ImageDiff
{
    /// <summary>Mean and max |a − b| over all channels, in 0..255 levels.</summary>
    public static (double Mean, int Max) Levels(DecodedImage expected, DecodedImage actual)
    {
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        long sum = 0;
        var max = 0;
        for (var i = 0; i < expected.Rgb.Length; i++)
        {
            var d = Math.Abs(expected.Rgb[i] - actual.Rgb[i]);
            sum += d;
            max = Math.Max(max, d);
        }
        return ((double)sum / expected.Rgb.Length, max);
    }
}
