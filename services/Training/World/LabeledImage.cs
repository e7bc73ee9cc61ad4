using System.Text.Json;
using System.Text.Json.Serialization;
using MultiModal.ShapesWorld;

namespace MultiModal.Training.World;

/// <summary>An encoded image of the world with the color and shape it shows (and its size, where the source says).</summary>
public sealed record LabeledImage(string Name, byte[] Data, WorldColor Color, WorldShape Shape, WorldSize? Size = null);

/// <summary>Sets of labeled images: rendered here from a seed, or read from a folder another program wrote.</summary>
public static class LabeledImages
{
    public const string LabelsFile = "labels.jsonl";

    /// <summary>Scenes 0 … count − 1 of the set with <paramref name="seed"/>, rendered by <see cref="SceneRenderer"/> as PNGs.</summary>
    public static IReadOnlyList<LabeledImage> Rendered(int seed, int count, int size) =>
        SceneSampler.Scenes(seed, 0, count)
            .Select((s, i) => new LabeledImage($"{seed}-{i:D5}.png", SceneRenderer.RenderPng(s, size), s.Color, s.Shape, s.Size))
            .ToList();

    /// <summary>
    /// A folder with <c>labels.jsonl</c>: one <c>{"file": "00000.png", "color": "red", "shape": "circle", ...}</c> a line
    /// (services/ShapesWorld/Python/render_world.py and <c>train render</c> write it).
    /// </summary>
    public static IReadOnlyList<LabeledImage> FromFolder(string folder)
    {
        var labels = Path.Combine(folder, LabelsFile);
        if (!File.Exists(labels))
            throw new FileNotFoundException($"{labels} not found: expected a folder written by render_world.py or `train render`", labels);
        return File.ReadLines(labels).Where(l => l.Length > 0).Select(line =>
        {
            var label = JsonSerializer.Deserialize<Label>(line) ?? throw new InvalidDataException($"bad line in {labels}: {line}");
            return new LabeledImage(label.File, File.ReadAllBytes(Path.Combine(folder, label.File)),
                Enum.Parse<WorldColor>(label.Color, ignoreCase: true), Enum.Parse<WorldShape>(label.Shape, ignoreCase: true),
                label.Size is null ? null : Enum.Parse<WorldSize>(label.Size, ignoreCase: true));
        }).ToList();
    }

    /// <summary>Writes images and <c>labels.jsonl</c> in the format <see cref="FromFolder"/> reads.</summary>
    public static void Write(string folder, IEnumerable<(LabeledImage Image, WorldScene Scene)> images)
    {
        Directory.CreateDirectory(folder);
        using var labels = new StreamWriter(Path.Combine(folder, LabelsFile));
        foreach (var (image, scene) in images)
        {
            File.WriteAllBytes(Path.Combine(folder, image.Name), image.Data);
            labels.WriteLine(JsonSerializer.Serialize(new Label(image.Name, WorldVocabulary.Name(scene.Color), WorldVocabulary.Name(scene.Shape))
            {
                Size = WorldVocabulary.Name(scene.Size), Background = WorldVocabulary.Name(scene.Background),
            }));
        }
    }

    private sealed record Label(
        [property: JsonPropertyName("file")] string File,
        [property: JsonPropertyName("color")] string Color,
        [property: JsonPropertyName("shape")] string Shape)
    {
        [JsonPropertyName("size")] public string? Size { get; init; }
        [JsonPropertyName("background")] public string? Background { get; init; }
    }
}
