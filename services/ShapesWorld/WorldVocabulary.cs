namespace MultiModal.ShapesWorld;

/// <summary>The world's colors: the eight a shape can have, and gray, which only a background can have.</summary>
public enum WorldColor { Red, Green, Blue, Yellow, Orange, Purple, White, Black, Gray }

public enum WorldShape { Circle, Square, Triangle, Star }

public enum WorldSize { Small, Large }

/// <summary>Names and reference colors of the world (fixed: any program can render it from this table).</summary>
public static class WorldVocabulary
{
    /// <summary>The eight shape colors, in enum order.</summary>
    public static readonly IReadOnlyList<WorldColor> ShapeColors =
        [WorldColor.Red, WorldColor.Green, WorldColor.Blue, WorldColor.Yellow, WorldColor.Orange, WorldColor.Purple, WorldColor.White, WorldColor.Black];

    /// <summary>The nine background colors: the shape colors and gray.</summary>
    public static readonly IReadOnlyList<WorldColor> BackgroundColors = [.. ShapeColors, WorldColor.Gray];

    public static readonly IReadOnlyList<WorldShape> Shapes = [WorldShape.Circle, WorldShape.Square, WorldShape.Triangle, WorldShape.Star];

    public static readonly IReadOnlyList<WorldSize> Sizes = [WorldSize.Small, WorldSize.Large];

    /// <summary>sRGB reference value of each color (services/ShapesWorld/Python/render_world.py holds the same table).</summary>
    public static (byte R, byte G, byte B) Rgb(WorldColor color) => color switch
    {
        WorldColor.Red => (220, 30, 30),
        WorldColor.Green => (30, 160, 50),
        WorldColor.Blue => (30, 70, 220),
        WorldColor.Yellow => (240, 220, 30),
        WorldColor.Orange => (245, 140, 20),
        WorldColor.Purple => (140, 50, 180),
        WorldColor.White => (245, 245, 245),
        WorldColor.Black => (15, 15, 15),
        WorldColor.Gray => (128, 128, 128),
        _ => throw new ArgumentOutOfRangeException(nameof(color), color, null),
    };

    public static string Name(WorldColor color) => color.ToString().ToLowerInvariant();

    public static string Name(WorldShape shape) => shape.ToString().ToLowerInvariant();

    public static string Name(WorldSize size) => size.ToString().ToLowerInvariant();
}
