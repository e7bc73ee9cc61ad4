using System.Text.Json;
using Google.Protobuf;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Contracts.Common.V1;
using MultiModal.ShapesWorld;
using MultiModal.Tests.Testing;
using Xunit;
using Xunit.Abstractions;

namespace MultiModal.Tests.Integration.BuiltIn;

/// <summary>
/// Issue 11: the built-in CLIP knows the shapes world. Zero-shot Classify through the gateway of held-out images (a seed
/// used neither in training nor in the model card's evaluation) and of images drawn by another program (Python PIL,
/// committed under pil-world/), top-1. Color is held to the bar (95 %, 8-way) on both. Shape: the committed
/// CLIP (6000 steps, builtin-models/clip/README.md: 95.4 % of 500 rendered, 97.2 % of 500 PIL images in float32)
/// classified 96.0 % of these 100 rendered and 92.2 % (59) of these 64 PIL images through the service in bfloat16 on a
/// Zen 5 (float32 in-process: 92.2 % of the 64 too). The rendered set is held to the bar (90 %, six images to
/// spare); the 64 PIL images to 85 % (four to spare): too few images for the bar to be a stable test, which the
/// card's 500 PIL images show instead.
/// </summary>
public sealed class BuiltInClipZeroShotTests(BuiltInClipFixture fleet, ITestOutputHelper output) : IClassFixture<BuiltInClipFixture>
{
    private const int HeldOutSeed = 2_000_003;
    private const int HeldOutCount = 100;
    private const double ColorBar = 0.95, ShapeBar = 0.90, PilShapeBar = 0.85;

    [Fact]
    public async Task Classify_HeldOutRenderedImages_NamesColorAndShape()
    {
        var images = SceneSampler.Scenes(HeldOutSeed, 0, HeldOutCount)
            .Select(s => (Png: SceneRenderer.RenderPng(s, 64), s.Color, s.Shape)).ToList();

        var (color, shape) = await AccuracyAsync(images);

        output.WriteLine($"{HeldOutCount} held-out rendered images: color {color:P1}, shape {shape:P1}");
        Assert.True(color >= ColorBar, $"color accuracy {color:P1} < {ColorBar:P0}");
        Assert.True(shape >= ShapeBar, $"shape accuracy {shape:P1} < {ShapeBar:P0}");
    }

    [Fact]
    public async Task Classify_ImagesDrawnByPil_NamesColorAndShape()
    {
        var folder = Path.Combine(TestPaths.RepoRoot, "tests", "Integration", "BuiltIn", "pil-world");
        var images = File.ReadLines(Path.Combine(folder, "labels.jsonl")).Select(line =>
        {
            using var label = JsonDocument.Parse(line);
            var root = label.RootElement;
            return (File.ReadAllBytes(Path.Combine(folder, root.GetProperty("file").GetString()!)),
                Enum.Parse<WorldColor>(root.GetProperty("color").GetString()!, ignoreCase: true),
                Enum.Parse<WorldShape>(root.GetProperty("shape").GetString()!, ignoreCase: true));
        }).ToList();
        Assert.True(images.Count >= 50, $"only {images.Count} PIL images in {folder}");

        var (color, shape) = await AccuracyAsync(images);

        output.WriteLine($"{images.Count} PIL-drawn images: color {color:P1}, shape {shape:P1}");
        Assert.True(color >= ColorBar, $"color accuracy {color:P1} < {ColorBar:P0}");
        Assert.True(shape >= PilShapeBar, $"shape accuracy {shape:P1} < {PilShapeBar:P0}");
    }

    [Fact]
    public async Task Classify_RedCircle_TopLabelIsRedCircle()
    {
        var redCircle = new WorldScene(WorldShape.Circle, WorldColor.Red, WorldSize.Large, WorldColor.White, 0.5, 0.5, 0.33, 0,
            (0, 0, 0), (0, 0, 0), NoiseSeed: 1);
        var request = new ClassifyRequest
        {
            Image = new Image { Data = ByteString.CopyFrom(SceneRenderer.RenderPng(redCircle, 64)) },
            Labels = { "red circle", "blue circle", "red square", "green star", "yellow triangle" },
            Template = "a photo of a {}",
        };

        var response = await fleet.Client.ClassifyAsync(request).ResponseAsync.DefaultTimeout();

        var top = response.Scores.MaxBy(s => s.Probability)!;
        output.WriteLine(string.Join(", ", response.Scores.Select(s => $"{s.Label} {s.Probability:F3}")));
        Assert.Equal("red circle", top.Label);
        Assert.True(top.Probability > 0.5, $"p(red circle) = {top.Probability:F3}");
    }

    private async Task<(double Color, double Shape)> AccuracyAsync(IReadOnlyList<(byte[] Png, WorldColor Color, WorldShape Shape)> images)
    {
        var calls = images.Select(async image =>
        {
            var (color, shape) = await WorldClassify.TopColorAndShapeAsync(fleet.Client, new Image { Data = ByteString.CopyFrom(image.Png) });
            return (Color: color == WorldVocabulary.Name(image.Color), Shape: shape == WorldVocabulary.Name(image.Shape));
        });
        var results = await Task.WhenAll(calls).DefaultTimeout();
        return ((double)results.Count(r => r.Color) / results.Length, (double)results.Count(r => r.Shape) / results.Length);
    }
}
