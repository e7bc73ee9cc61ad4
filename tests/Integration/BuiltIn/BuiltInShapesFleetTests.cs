using Google.Protobuf;
using Grpc.Core;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Contracts.Common.V1;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.ShapesWorld;
using MultiModal.Tests.Testing;
using Xunit;
using Xunit.Abstractions;

namespace MultiModal.Tests.Integration.BuiltIn;

/// <summary>
/// Issue 11 across the fleet, through the gateway: images the built-in diffusion pipeline generates from prompts of the
/// world, and images it recolours (img2img), are classified by the built-in CLIP as what the prompt asked for.
/// The bars are regression guards below the committed models' measured rates (builtin-models/README.md), with a
/// margin of several images of 32 so another CPU's float rounding cannot flip the outcome; the issue's own bars are
/// stated beside them.
/// </summary>
public sealed class BuiltInShapesFleetTests(BuiltInShapesFleetFixture fleet, ITestOutputHelper output) : IClassFixture<BuiltInShapesFleetFixture>
{
    private const uint Steps = 20;
    private const float Guidance = 7.5f;
    private const float Strength = 0.8f;
    // Measured by `eval diffusion` (in-process, float32 on a Zen 5, the folder's DPM++ 2M) for the averaged 4000-step
    // UNet: color 31/32, shape 24/32, recolouring 25/32, which clear the 80 %, 60 % and 70 % (26, 20 and 23 of
    // 32). Bars six images below the measured ones.
    private const double GenerateColorBar = 25 / 32.0, GenerateShapeBar = 18 / 32.0;
    private const double RecolorBar = 19 / 32.0;

    private static IEnumerable<(int Index, WorldColor Color, WorldShape Shape)> Prompts() =>
        WorldVocabulary.ShapeColors.SelectMany(c => WorldVocabulary.Shapes.Select(s => (c, s))).Select((p, i) => (i, p.c, p.s));

    private static string Prompt(WorldColor color, WorldShape shape) => $"a {WorldVocabulary.Name(color)} {WorldVocabulary.Name(shape)}";

    [Fact]
    public async Task GenerateImage_EveryColorShapePrompt_ClassifiedAsItsPrompt()
    {
        int colorHits = 0, shapeHits = 0, count = 0;
        foreach (var (index, color, shape) in Prompts())
        {
            var image = await GenerateAsync(new GenerateImageRequest { Prompt = Prompt(color, shape), Seed = (ulong)index });
            var (seenColor, seenShape) = await ClassifyAsync(image);
            colorHits += seenColor == WorldVocabulary.Name(color) ? 1 : 0;
            shapeHits += seenShape == WorldVocabulary.Name(shape) ? 1 : 0;
            count++;
        }

        double colorRate = (double)colorHits / count, shapeRate = (double)shapeHits / count;
        output.WriteLine($"{count} prompts: classified as the prompt's color {colorRate:P1}, shape {shapeRate:P1}");
        Assert.True(colorRate >= GenerateColorBar, $"color {colorRate:P1} < {GenerateColorBar:P0}");
        Assert.True(shapeRate >= GenerateShapeBar, $"shape {shapeRate:P1} < {GenerateShapeBar:P0}");
    }

    // The README's first example: generate "a red circle", then ask the CLIP service what color and what shape it is.
    [Fact]
    public async Task GenerateImage_RedCircle_ClassifiedRedCircle()
    {
        var image = await GenerateAsync(new GenerateImageRequest { Prompt = "a red circle", Seed = 0 });
        var colors = await WorldClassify.ScoresAsync(fleet.ClipClient, image, WorldClassify.ColorLabels, WorldClassify.ColorTemplate);
        var shapes = await WorldClassify.ScoresAsync(fleet.ClipClient, image, WorldClassify.ShapeLabels, WorldClassify.ShapeTemplate);

        output.WriteLine(string.Join(", ", colors.Concat(shapes).OrderByDescending(s => s.Probability).Take(4).Select(s => $"{s.Label} {s.Probability:F2}")));
        Assert.Equal("red", colors.MaxBy(s => s.Probability)!.Label);
        Assert.Equal("circle", shapes.MaxBy(s => s.Probability)!.Label);
    }

    // img2img: each prompt's shape in another color (RecolorScenes.Source, as `eval diffusion` does it) recoloured to
    // the prompt's color at strength 0.8.
    [Fact]
    public async Task GenerateImage_Img2ImgRecolor_TakesThePromptsColor()
    {
        int hits = 0, count = 0;
        foreach (var (index, color, shape) in Prompts())
        {
            var scene = RecolorScenes.Source(index, color, shape);
            var image = await GenerateAsync(new GenerateImageRequest
            {
                Prompt = Prompt(color, shape),
                Seed = (ulong)index,
                InitImage = new Image { Data = ByteString.CopyFrom(SceneRenderer.RenderPng(scene, 64)), MimeType = "image/png" },
                Strength = Strength,
            });
            hits += (await ClassifyAsync(image)).Color == WorldVocabulary.Name(color) ? 1 : 0;
            count++;
        }

        var rate = (double)hits / count;
        output.WriteLine($"{count} recolourings: classified as the prompt's color {rate:P1}");
        Assert.True(rate >= RecolorBar, $"recolouring {rate:P1} < {RecolorBar:P0}");
    }

    private async Task<Image> GenerateAsync(GenerateImageRequest request)
    {
        request.Steps = Steps;
        request.GuidanceScale = Guidance;
        using var call = fleet.DiffusionClient.GenerateImage(request, deadline: DateTime.UtcNow.AddSeconds(60));
        Result? result = null;
        await foreach (var response in call.ResponseStream.ReadAllAsync())
            if (response.EventCase == GenerateImageResponse.EventOneofCase.Result)
                result = response.Result;
        Assert.NotNull(result);
        return result.Images.Single();
    }

    private Task<(string Color, string Shape)> ClassifyAsync(Image image) => WorldClassify.TopColorAndShapeAsync(fleet.ClipClient, image);
}
