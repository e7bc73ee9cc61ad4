using Google.Protobuf;
using MultiModal.Contracts.Common.V1;
using MultiModal.Contracts.Vision.V1;
using MultiModal.ShapesWorld;
using MultiModal.Tests.Testing;
using Xunit;
using Xunit.Abstractions;

namespace MultiModal.Tests.Integration.BuiltIn;

/// <summary>
/// Issue 11: the built-in LLaVA answers questions about the shapes world. Describe through the gateway (greedy) on
/// 200 held-out images (a seed used neither in training nor in the model card's evaluation), held to the bars:
/// 90 % color, 85 % shape. The committed model (frozen CLIP tower with its CLS row, builtin-models/vision/README.md)
/// answered color 100 % and shape 96.0 % here through the service in bfloat16 on a Zen 5 (the card: 100 % and 95.0 % of
/// 300 other images in float32): twenty answers to spare on each.
/// </summary>
public sealed class BuiltInVisionAnswerTests(BuiltInVisionFixture fleet, ITestOutputHelper output) : IClassFixture<BuiltInVisionFixture>
{
    private const int HeldOutSeed = 2_000_003;
    private const int HeldOutCount = 200;
    private const double ColorBar = 0.90, ShapeBar = 0.85;

    [Fact]
    public async Task Describe_HeldOutImages_AnswersColorAndShape()
    {
        int colorHits = 0, shapeHits = 0;
        foreach (var scene in SceneSampler.Scenes(HeldOutSeed, 0, HeldOutCount))
        {
            var png = SceneRenderer.RenderPng(scene, 64);
            var color = await AskAsync(png, WorldQuestions.ColorQuestion);
            var shape = await AskAsync(png, WorldQuestions.ShapeQuestion);
            colorHits += NamesOnly(color, WorldVocabulary.Name(scene.Color), WorldVocabulary.ShapeColors.Select(WorldVocabulary.Name)) ? 1 : 0;
            shapeHits += NamesOnly(shape, WorldVocabulary.Name(scene.Shape), WorldVocabulary.Shapes.Select(WorldVocabulary.Name)) ? 1 : 0;
        }

        double colorAccuracy = (double)colorHits / HeldOutCount, shapeAccuracy = (double)shapeHits / HeldOutCount;
        output.WriteLine($"{HeldOutCount} held-out images: color {colorAccuracy:P1}, shape {shapeAccuracy:P1}");
        Assert.True(colorAccuracy >= ColorBar, $"color accuracy {colorAccuracy:P1} < {ColorBar:P0}");
        Assert.True(shapeAccuracy >= ShapeBar, $"shape accuracy {shapeAccuracy:P1} < {ShapeBar:P0}");
    }

    [Fact]
    public async Task Describe_RedCircle_NamesRedAndCircle()
    {
        var redCircle = new WorldScene(WorldShape.Circle, WorldColor.Red, WorldSize.Large, WorldColor.White, 0.5, 0.5, 0.33, 0,
            (0, 0, 0), (0, 0, 0), NoiseSeed: 1);
        var png = SceneRenderer.RenderPng(redCircle, 64);

        var color = await AskAsync(png, WorldQuestions.ColorQuestion);
        var shape = await AskAsync(png, WorldQuestions.ShapeQuestion);
        var described = await AskAsync(png, WorldQuestions.DescribeQuestion);

        output.WriteLine($"color: \"{color}\"; shape: \"{shape}\"; describe: \"{described}\"");
        Assert.True(NamesOnly(color, "red", WorldVocabulary.ShapeColors.Select(WorldVocabulary.Name)), $"color answer \"{color}\"");
        Assert.True(NamesOnly(shape, "circle", WorldVocabulary.Shapes.Select(WorldVocabulary.Name)), $"shape answer \"{shape}\"");
        Assert.Contains("red circle", described, StringComparison.Ordinal);
    }

    // The README's example: a small red square on blue drawn by Python PIL (another renderer than the training one).
    [Fact]
    public async Task Describe_PilDrawnRedSquare_AsTheReadmeShows()
    {
        var png = File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "tests", "Integration", "BuiltIn", "pil-world", "00001.png"));

        var shape = await AskAsync(png, WorldQuestions.ShapeQuestion);
        var described = await AskAsync(png, WorldQuestions.DescribeQuestion);

        output.WriteLine($"shape: \"{shape}\"; describe: \"{described}\"");
        Assert.Equal("a square", shape);
        Assert.Equal("a small red square on a blue background", described);
    }

    private async Task<string> AskAsync(byte[] png, string question)
    {
        var response = await fleet.Client.DescribeAsync(new DescribeRequest
        {
            Images = { new Image { Data = ByteString.CopyFrom(png), MimeType = "image/png" } },
            Prompt = question,
            MaxTokens = 16,
            Temperature = 0,
        }).ResponseAsync.DefaultTimeout();
        return response.Text;
    }

    // The answer names the true value and none of the others (words, so "a red" is not "reddish").
    private static bool NamesOnly(string answer, string truth, IEnumerable<string> values)
    {
        var words = answer.ToLowerInvariant().Split([' ', '.', ',', '!', '\n'], StringSplitOptions.RemoveEmptyEntries);
        return values.All(v => words.Contains(v) == (v == truth));
    }
}
