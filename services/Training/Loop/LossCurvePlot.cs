using System.Globalization;
using SkiaSharp;

namespace MultiModal.Training.Loop;

/// <summary>The loss per step as a PNG (SkiaSharp): raw values in light gray, a moving average in blue, y on a log scale.</summary>
public static class LossCurvePlot
{
    public static void Save(string path, string title, IReadOnlyList<double> losses, int width = 800, int height = 450)
    {
        const float left = 70, right = 20, top = 40, bottom = 50;
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var raw = new SKPaint { Color = new SKColor(190, 190, 190), StrokeWidth = 1, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var smooth = new SKPaint { Color = new SKColor(30, 80, 200), StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var typeface = Typeface();
        using var font = new SKFont(typeface, 14);
        float plotW = width - left - right, plotH = height - top - bottom;
        canvas.DrawRect(left, top, plotW, plotH, axis);
        canvas.DrawText(title + " (log scale; blue: moving average)", left, top - 12, SKTextAlign.Left, font, text);
        canvas.DrawText("step", left + plotW / 2, height - 12, SKTextAlign.Center, font, text);
        var finite = losses.Where(l => double.IsFinite(l) && l > 0).ToList();
        if (finite.Count < 2)
        {
            Save(surface, path);
            return;
        }
        double lo = Math.Log10(finite.Min()), hi = Math.Log10(finite.Max());
        if (hi - lo < 1e-6)
            (lo, hi) = (lo - 0.5, hi + 0.5);
        float X(int i) => left + plotW * i / Math.Max(1, losses.Count - 1);
        float Y(double v) => top + plotH * (float)((hi - Math.Log10(Math.Max(v, 1e-12))) / (hi - lo));
        for (var k = 0; k <= 4; k++)
        {
            var v = Math.Pow(10, lo + (hi - lo) * k / 4);
            var y = Y(v);
            canvas.DrawLine(left - 5, y, left, y, axis);
            canvas.DrawText(v.ToString("G3", CultureInfo.InvariantCulture), left - 8, y + 5, SKTextAlign.Right, font, text);
        }
        for (var k = 0; k <= 4; k++)
        {
            var i = (losses.Count - 1) * k / 4;
            canvas.DrawLine(X(i), top + plotH, X(i), top + plotH + 5, axis);
            canvas.DrawText((i + 1).ToString(CultureInfo.InvariantCulture), X(i), top + plotH + 20, SKTextAlign.Center, font, text);
        }
        DrawSeries(canvas, losses, X, Y, raw);
        var window = Math.Max(1, losses.Count / 50);
        var averaged = losses.Select((_, i) => losses.Skip(Math.Max(0, i - window + 1)).Take(Math.Min(window, i + 1)).Average()).ToList();
        DrawSeries(canvas, averaged, X, Y, smooth);
        Save(surface, path);
    }

    // SkiaSharp's NoDependencies natives have no fontconfig, so SKTypeface.Default draws nothing: a system font file
    // when there is one (Debian's fonts-dejavu-core / fonts-liberation), else the default (curves without labels).
    private static SKTypeface Typeface() =>
        new[] { "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf" }
            .Where(File.Exists).Select(SKTypeface.FromFile).FirstOrDefault(t => t is not null) ?? SKTypeface.Default;

    private static void DrawSeries(SKCanvas canvas, IReadOnlyList<double> values, Func<int, float> x, Func<double, float> y, SKPaint paint)
    {
        using var builder = new SKPathBuilder();
        builder.MoveTo(x(0), y(values[0]));
        for (var i = 1; i < values.Count; i++)
            builder.LineTo(x(i), y(values[i]));
        using var path = builder.Detach();
        canvas.DrawPath(path, paint);
    }

    private static void Save(SKSurface surface, string path)
    {
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }
}
