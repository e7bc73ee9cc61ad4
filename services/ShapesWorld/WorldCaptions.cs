namespace MultiModal.ShapesWorld;

/// <summary>Captions of a scene: the full one ("a large red circle on a blue background") and its paraphrases.</summary>
public static class WorldCaptions
{
    /// <summary>"a large red circle on a blue background".</summary>
    public static string Full(WorldScene scene) =>
        $"a {WorldVocabulary.Name(scene.Size)} {WorldVocabulary.Name(scene.Color)} {WorldVocabulary.Name(scene.Shape)} on a {WorldVocabulary.Name(scene.Background)} background";

    /// <summary>"a red circle": what the scene is, in the fewest words.</summary>
    public static string Short(WorldScene scene) => $"a {WorldVocabulary.Name(scene.Color)} {WorldVocabulary.Name(scene.Shape)}";

    /// <summary>
    /// Every paraphrase of the scene, each with the attributes it states: full, color + shape with and without
    /// "a picture of"/"a photo of", color alone ("a red shape"), shape alone ("a circle"), size + shape, background.
    /// </summary>
    public static IReadOnlyList<WorldCaption> All(WorldScene scene)
    {
        string c = WorldVocabulary.Name(scene.Color), s = WorldVocabulary.Name(scene.Shape);
        string z = WorldVocabulary.Name(scene.Size), b = WorldVocabulary.Name(scene.Background);
        WorldCaption Of(string text, bool shape, bool color, bool size, bool background) => new(text,
            shape ? scene.Shape : null, color ? scene.Color : null, size ? scene.Size : null, background ? scene.Background : null);
        return
        [
            Of(Full(scene), true, true, true, true),
            Of($"a {c} {s} on a {b} background", true, true, false, true),
            Of($"a {c} {s}", true, true, false, false),
            Of($"a picture of a {c} {s}", true, true, false, false),
            Of($"a photo of a {c} {s}", true, true, false, false),
            Of($"a {z} {c} {s}", true, true, true, false),
            Of($"a {c} shape", false, true, false, false),
            Of($"a photo of a {c} shape", false, true, false, false),
            Of($"something {c}", false, true, false, false),
            Of($"a {s}", true, false, false, false),
            Of($"a photo of a {s}", true, false, false, false),
            Of($"a picture of a {s}", true, false, false, false),
            Of($"a {z} {s}", true, false, true, false),
            Of($"a {s} on a {b} background", true, false, false, true),
            Of($"a {z} shape", false, false, true, false),
        ];
    }
}
