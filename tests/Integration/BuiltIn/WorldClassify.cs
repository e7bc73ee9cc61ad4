using MultiModal.Contracts.Clip.V1;
using MultiModal.Contracts.Common.V1;
using MultiModal.ShapesWorld;
using MultiModal.Tests.Testing;

namespace MultiModal.Tests.Integration.BuiltIn;

/// <summary>
/// Zero-shot Classify of one image of the shapes world through a CLIP client, as the model cards score it: the 8
/// colors with "a photo of a {} shape", the 4 shapes with "a photo of a {}".
/// </summary>
internal static class WorldClassify
{
    public const string ColorTemplate = "a photo of a {} shape", ShapeTemplate = "a photo of a {}";
    public static readonly string[] ColorLabels = [.. WorldVocabulary.ShapeColors.Select(WorldVocabulary.Name)];
    public static readonly string[] ShapeLabels = [.. WorldVocabulary.Shapes.Select(WorldVocabulary.Name)];

    /// <summary>The top color and the top shape the service gives the image.</summary>
    public static async Task<(string Color, string Shape)> TopColorAndShapeAsync(ClipService.ClipServiceClient client, Image image)
    {
        var color = await ScoresAsync(client, image, ColorLabels, ColorTemplate);
        var shape = await ScoresAsync(client, image, ShapeLabels, ShapeTemplate);
        return (color.MaxBy(s => s.Probability)!.Label, shape.MaxBy(s => s.Probability)!.Label);
    }

    public static async Task<IReadOnlyList<LabelScore>> ScoresAsync(ClipService.ClipServiceClient client, Image image, IEnumerable<string> labels, string template)
    {
        var response = await client.ClassifyAsync(new ClassifyRequest { Image = image, Labels = { labels }, Template = template })
            .ResponseAsync.DefaultTimeout();
        return response.Scores;
    }
}
