namespace MultiModal.ShapesWorld;

/// <summary>A question about a scene and its answer (the Vision training and evaluation pairs).</summary>
public sealed record WorldQuestion(string Question, string Answer);

public static class WorldQuestions
{
    public const string ColorQuestion = "What color is the shape?";
    public const string ShapeQuestion = "What shape is it?";
    public const string DescribeQuestion = "Describe this image.";

    /// <summary>
    /// "What color is the shape?" → "red", "What shape is it?" → "a circle", "Describe this image." → the full caption,
    /// and the background color and size questions.
    /// </summary>
    public static IReadOnlyList<WorldQuestion> All(WorldScene scene) =>
    [
        new(ColorQuestion, WorldVocabulary.Name(scene.Color)),
        new(ShapeQuestion, $"a {WorldVocabulary.Name(scene.Shape)}"),
        new(DescribeQuestion, WorldCaptions.Full(scene)),
        new("What color is the background?", WorldVocabulary.Name(scene.Background)),
        new("Is the shape small or large?", WorldVocabulary.Name(scene.Size)),
    ];
}
