using MultiModal.ShapesWorld;
using Xunit;

namespace MultiModal.Tests.Unit.ShapesWorld;

public sealed class WorldCaptionsTests
{
    private static readonly WorldScene RedCircle = new(WorldShape.Circle, WorldColor.Red, WorldSize.Large, WorldColor.Blue,
        0.5, 0.5, 0.3, 0, (0, 0, 0), (0, 0, 0), 1);

    [Fact]
    public void Full_LargeRedCircleOnBlue_ReadsAsTheIssueWritesIt()
    {
        Assert.Equal("a large red circle on a blue background", WorldCaptions.Full(RedCircle));
        Assert.Equal("a red circle", WorldCaptions.Short(RedCircle));
    }

    [Fact]
    public void All_EveryParaphrase_DescribesItsSceneAndNamesWhatItStates()
    {
        var captions = WorldCaptions.All(RedCircle);

        Assert.Contains(captions, c => c.Text == "a picture of a red circle");
        Assert.All(captions, c =>
        {
            Assert.True(c.Describes(RedCircle), c.Text);
            Assert.Equal(c.Color is not null, c.Text.Contains("red"));
            Assert.Equal(c.Shape is not null, c.Text.Contains("circle"));
        });
    }

    [Fact]
    public void Describes_SceneOfAnotherColor_OnlyCaptionsWithoutColorMatch()
    {
        var blueCircle = RedCircle with { Color = WorldColor.Blue, Background = WorldColor.Red };

        var matching = WorldCaptions.All(RedCircle).Where(c => c.Describes(blueCircle)).Select(c => c.Text).ToList();

        Assert.Equal(["a circle", "a photo of a circle", "a picture of a circle", "a large circle", "a large shape"], matching);
    }

    [Fact]
    public void Questions_RedCircle_AnswerColorShapeAndCaption()
    {
        var answers = WorldQuestions.All(RedCircle).ToDictionary(q => q.Question, q => q.Answer);

        Assert.Equal("red", answers[WorldQuestions.ColorQuestion]);
        Assert.Equal("a circle", answers[WorldQuestions.ShapeQuestion]);
        Assert.Equal("a large red circle on a blue background", answers[WorldQuestions.DescribeQuestion]);
    }
}
