using MultiModal.Models.Imaging;
using MultiModal.ShapesWorld;
using Xunit;

namespace MultiModal.Tests.Unit.ShapesWorld;

public sealed class SceneRendererTests
{
    private const int Size = 64;
    // Color jitter (±12) plus a few σ of the noise (σ = 4).
    private const int Tolerance = 12 + 20;

    [Fact]
    public void RenderRgb_SameScene_SameBytes()
    {
        var scene = SceneSampler.Scene(3, 7);
        Assert.Equal(SceneRenderer.RenderRgb(scene, Size), SceneRenderer.RenderRgb(scene, Size));
    }

    [Fact]
    public void RenderRgb_EveryShapeAndColor_CenterHasTheShapeColorAndCornerTheBackground()
    {
        var scenes = SceneSampler.Scenes(4, 0, 400).ToList();
        Assert.All(scenes, scene =>
        {
            var rgb = SceneRenderer.RenderRgb(scene, Size);
            AssertNear(WorldVocabulary.Rgb(scene.Color), Pixel(rgb, (int)(scene.CenterX * Size), (int)(scene.CenterY * Size)), $"{scene} center");
            AssertNear(WorldVocabulary.Rgb(scene.Background), Pixel(rgb, 0, 0), $"{scene} corner");
        });
    }

    [Fact]
    public void RenderRgb_LargeShape_CoversMoreOfTheImageThanSmall()
    {
        double Coverage(WorldScene s)
        {
            var rgb = SceneRenderer.RenderRgb(s, Size);
            var target = WorldVocabulary.Rgb(s.Color);
            var hits = 0;
            for (var y = 0; y < Size; y++)
                for (var x = 0; x < Size; x++)
                    hits += Near(target, Pixel(rgb, x, y)) ? 1 : 0;
            return (double)hits / (Size * Size);
        }
        var scenes = SceneSampler.Scenes(5, 0, 200).ToList();

        var small = scenes.Where(s => s.Size == WorldSize.Small).Average(Coverage);
        var large = scenes.Where(s => s.Size == WorldSize.Large).Average(Coverage);

        Assert.True(large > 2.5 * small, $"large covers {large:P1}, small {small:P1}");
    }

    [Fact]
    public void RenderPng_Decoded_EqualsRenderRgb()
    {
        var scene = SceneSampler.Scene(6, 1);
        var decoded = ImageDecoder.Decode(SceneRenderer.RenderPng(scene, Size), ImageLimits.Default);
        Assert.Equal((Size, Size), (decoded.Width, decoded.Height));
        Assert.Equal(SceneRenderer.RenderRgb(scene, Size), decoded.Rgb);
    }

    private static (int R, int G, int B) Pixel(byte[] rgb, int x, int y)
    {
        var i = 3 * (y * Size + x);
        return (rgb[i], rgb[i + 1], rgb[i + 2]);
    }

    private static bool Near((byte R, byte G, byte B) expected, (int R, int G, int B) actual) =>
        Math.Abs(expected.R - actual.R) <= Tolerance && Math.Abs(expected.G - actual.G) <= Tolerance && Math.Abs(expected.B - actual.B) <= Tolerance;

    private static void AssertNear((byte R, byte G, byte B) expected, (int R, int G, int B) actual, string what) =>
        Assert.True(Near(expected, actual), $"{what}: expected ~{expected}, got {actual}");
}
