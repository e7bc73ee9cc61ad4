namespace MultiModal.ShapesWorld;

/// <summary>
/// A text about a scene and which attributes it states (null = not mentioned), so a contrastive trainer can tell
/// which other images of a batch the text also describes.
/// </summary>
public sealed record WorldCaption(string Text, WorldShape? Shape, WorldColor? Color, WorldSize? Size, WorldColor? Background)
{
    /// <summary>True when every attribute the caption states holds in <paramref name="scene"/>.</summary>
    public bool Describes(WorldScene scene) =>
        (Shape is null || Shape == scene.Shape) && (Color is null || Color == scene.Color)
        && (Size is null || Size == scene.Size) && (Background is null || Background == scene.Background);
}
