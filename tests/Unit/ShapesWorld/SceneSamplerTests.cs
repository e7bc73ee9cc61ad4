using MultiModal.ShapesWorld;
using Xunit;

namespace MultiModal.Tests.Unit.ShapesWorld;

public sealed class SceneSamplerTests
{
    [Fact]
    public void Scene_SameSeedAndIndex_SameScene()
    {
        Assert.Equal(SceneSampler.Scene(5, 123), SceneSampler.Scene(5, 123));
    }

    [Fact]
    public void Scene_OtherSeedOrIndex_OtherScene()
    {
        var scene = SceneSampler.Scene(5, 123);
        Assert.NotEqual(scene, SceneSampler.Scene(6, 123));
        Assert.NotEqual(scene, SceneSampler.Scene(5, 124));
    }

    [Fact]
    public void Scenes_ThousandDraws_CoverEveryColorShapeAndSizeWithBackgroundsOtherThanTheShape()
    {
        var scenes = SceneSampler.Scenes(1, 0, 1000).ToList();

        Assert.Equal(WorldVocabulary.ShapeColors.Order(), scenes.Select(s => s.Color).Distinct().Order());
        Assert.Equal(WorldVocabulary.Shapes.Order(), scenes.Select(s => s.Shape).Distinct().Order());
        Assert.Equal(WorldVocabulary.Sizes.Order(), scenes.Select(s => s.Size).Distinct().Order());
        Assert.Contains(scenes, s => s.Background == WorldColor.Gray);
        Assert.All(scenes, s => Assert.NotEqual(s.Color, s.Background));
        Assert.DoesNotContain(scenes, s => s.Color == WorldColor.Gray);
    }

    [Fact]
    public void Scenes_Geometry_InsideTheImageAndInItsSizeRange()
    {
        Assert.All(SceneSampler.Scenes(2, 0, 1000), s =>
        {
            var (min, max) = SceneSampler.RadiusRange(s.Size);
            Assert.InRange(s.Radius, min, max);
            Assert.InRange(s.CenterX, s.Radius, 1 - s.Radius);
            Assert.InRange(s.CenterY, s.Radius, 1 - s.Radius);
        });
    }
}
