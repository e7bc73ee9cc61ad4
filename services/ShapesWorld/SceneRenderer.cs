using SkiaSharp;

namespace MultiModal.ShapesWorld;

/// <summary>
/// Renders a <see cref="WorldScene"/> with SkiaSharp: plain background, the shape filled with antialiased edges, then
/// mild Gaussian noise (σ = <see cref="NoiseSigma"/> of 255) seeded by the scene, so the same scene gives the same bytes.
/// </summary>
public static class SceneRenderer
{
    public const double NoiseSigma = 4.0;

    /// <summary>A star's inner vertices lie at this fraction of its radius.</summary>
    public const float StarInner = 0.45f;

    /// <summary>Interleaved RGB bytes, <paramref name="size"/> × <paramref name="size"/> × 3, row-major.</summary>
    public static byte[] RenderRgb(WorldScene scene, int size)
    {
        ArgumentNullException.ThrowIfNull(scene);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 8);
        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(ToSk(scene.Background, scene.BackgroundJitter));
            using var paint = new SKPaint { Color = ToSk(scene.Color, scene.ShapeJitter), IsAntialias = true, Style = SKPaintStyle.Fill };
            using var path = ShapePath(scene, size);
            canvas.DrawPath(path, paint);
        }
        var rgba = bitmap.GetPixelSpan();
        var rgb = new byte[size * size * 3];
        var noise = new Random(scene.NoiseSeed);
        for (int p = 0, q = 0; q < rgb.Length; p += 4)
            for (var c = 0; c < 3; c++, q++)
                rgb[q] = (byte)Math.Clamp(Math.Round(rgba[p + c] + NoiseSigma * Gaussian(noise)), 0, 255);
        return rgb;
    }

    /// <summary>The scene as a PNG file.</summary>
    public static byte[] RenderPng(WorldScene scene, int size) => EncodePng(RenderRgb(scene, size), size, size);

    /// <summary>Interleaved RGB bytes as a PNG.</summary>
    public static byte[] EncodePng(byte[] rgb, int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        for (int p = 0, q = 0; q < rgb.Length; p += 4, q += 3)
            (pixels[p], pixels[p + 1], pixels[p + 2], pixels[p + 3]) = (rgb[q], rgb[q + 1], rgb[q + 2], 255);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>The shape's outline in pixels: vertices on the circumcircle, rotated by the scene's angle.</summary>
    internal static SKPath ShapePath(WorldScene scene, int size)
    {
        float cx = (float)(scene.CenterX * size), cy = (float)(scene.CenterY * size), r = (float)(scene.Radius * size);
        using var builder = new SKPathBuilder();
        if (scene.Shape == WorldShape.Circle)
        {
            builder.AddCircle(cx, cy, r, SKPathDirection.Clockwise);
            return builder.Detach();
        }
        const float inner = StarInner;
        var points = scene.Shape switch
        {
            WorldShape.Square => Polygon(cx, cy, [r, r, r, r], scene.RotationDegrees + 45),
            WorldShape.Triangle => Polygon(cx, cy, [r, r, r], scene.RotationDegrees - 90),
            WorldShape.Star => Polygon(cx, cy, [r, inner * r, r, inner * r, r, inner * r, r, inner * r, r, inner * r], scene.RotationDegrees - 90),
            _ => throw new ArgumentOutOfRangeException(nameof(scene), scene.Shape, null),
        };
        builder.MoveTo(points[0]);
        foreach (var point in points.Skip(1))
            builder.LineTo(point);
        builder.Close();
        return builder.Detach();
    }

    // Vertices at equal angles from startDegrees, each at its own distance from the center.
    private static SKPoint[] Polygon(float cx, float cy, float[] radii, double startDegrees)
    {
        var points = new SKPoint[radii.Length];
        for (var i = 0; i < radii.Length; i++)
        {
            var a = (startDegrees + 360.0 * i / radii.Length) * Math.PI / 180;
            points[i] = new SKPoint(cx + radii[i] * (float)Math.Cos(a), cy + radii[i] * (float)Math.Sin(a));
        }
        return points;
    }

    private static SKColor ToSk(WorldColor color, (int R, int G, int B) jitter)
    {
        var (r, g, b) = WorldVocabulary.Rgb(color);
        return new SKColor(Clamp(r + jitter.R), Clamp(g + jitter.G), Clamp(b + jitter.B));
    }

    private static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);

    // Box–Muller on the scene's own generator.
    private static double Gaussian(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * random.NextDouble());
    }
}
