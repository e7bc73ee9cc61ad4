using MultiModal.ShapesWorld;
using Xunit;

namespace MultiModal.Tests.Unit.ShapesWorld;

public sealed class RecolorScenesTests
{
    [Fact]
    public void Source_EveryTarget_AnotherColorOfTheSameShapeOnABackgroundOfNeither()
    {
        var index = 0;
        foreach (var target in WorldVocabulary.ShapeColors)
            foreach (var shape in WorldVocabulary.Shapes)
            {
                var scene = RecolorScenes.Source(index, target, shape);
                Assert.Equal(shape, scene.Shape);
                Assert.NotEqual(target, scene.Color);
                Assert.NotEqual(target, scene.Background);
                Assert.NotEqual(scene.Color, scene.Background);
                Assert.Equal(scene, RecolorScenes.Source(index++, target, shape));
            }
    }
}
