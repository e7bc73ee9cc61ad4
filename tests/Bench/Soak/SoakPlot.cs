using MultiModal.Tests.Bench.Fleet;
using SkiaSharp;

namespace MultiModal.Tests.Bench.Soak;

/// <summary>Draws the soak's samples as a PNG: one panel per metric, one line per process, minutes on x.</summary>
public static class SoakPlot
{
    private static readonly SKColor[] Colours = [new(0x1f, 0x77, 0xb4), new(0xd6, 0x27, 0x28), new(0x2c, 0xa0, 0x2c), new(0x94, 0x67, 0xbd)];
    private static readonly (string Metric, string Title, double Scale, string Unit)[] Panels =
    [
        ("rss", "resident memory (RSS)", 1 << 20, "MiB"),
        ("gc_heap", "managed heap after last GC", 1 << 20, "MiB"),
        ("threads", "threads", 1, ""),
        ("handles", "open file descriptors", 1, ""),
    ];

    public static void Write(string path, IReadOnlyList<ProcessSample> samples, string title)
    {
        const int width = 1600, height = 1000, top = 50;
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var typeface = LoadTypeface();
        using var font = new SKFont(typeface, 16);
        using var titleFont = new SKFont(typeface, 20);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawText(title, 20, 30, SKTextAlign.Left, titleFont, ink);

        var processes = samples.Select(s => s.Process).Distinct().ToList();
        var maxMinutes = Math.Max(samples.Count == 0 ? 1 : samples.Max(s => s.Seconds) / 60, 1e-3);
        for (var i = 0; i < Panels.Length; i++)
        {
            var (metric, panelTitle, scale, unit) = Panels[i];
            var rect = new SKRect(80 + (i % 2) * 790, top + 40 + (i / 2) * 460, 80 + (i % 2) * 790 + 680, top + 40 + (i / 2) * 460 + 360);
            var values = samples.Select(s => GrowthRule.Value(s, metric) / scale).Where(v => !double.IsNaN(v)).ToList();
            var maxY = NiceCeiling(values.Count == 0 ? 1 : values.Max());
            DrawAxes(canvas, rect, panelTitle + (unit.Length > 0 ? $" ({unit})" : ""), maxMinutes, maxY, font, ink);
            for (var p = 0; p < processes.Count; p++)
            {
                using var line = new SKPaint { Color = Colours[p % Colours.Length], StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke };
                SKPoint? previous = null;
                foreach (var s in samples.Where(s => s.Process == processes[p]))
                {
                    var v = GrowthRule.Value(s, metric) / scale;
                    if (double.IsNaN(v))
                        continue;
                    var point = new SKPoint(rect.Left + (float)(s.Seconds / 60 / maxMinutes) * rect.Width, rect.Bottom - (float)(v / maxY) * rect.Height);
                    if (previous is { } from)
                        canvas.DrawLine(from, point, line);
                    previous = point;
                }
                // Legend in the panel's top-right corner.
                using var swatch = new SKPaint { Color = Colours[p % Colours.Length], IsAntialias = true };
                canvas.DrawRect(rect.Right - 130, rect.Top + 10 + p * 22, 14, 14, swatch);
                canvas.DrawText(processes[p], rect.Right - 110, rect.Top + 23 + p * 22, SKTextAlign.Left, font, ink);
            }
        }

        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        png.SaveTo(file);
    }

    private static void DrawAxes(SKCanvas canvas, SKRect rect, string title, double maxX, double maxY, SKFont font, SKPaint ink)
    {
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1, Style = SKPaintStyle.Stroke };
        using var grid = new SKPaint { Color = new SKColor(0xdd, 0xdd, 0xdd), StrokeWidth = 1, Style = SKPaintStyle.Stroke };
        canvas.DrawText(title, rect.Left, rect.Top - 12, SKTextAlign.Left, font, ink);
        for (var k = 0; k <= 4; k++)
        {
            var y = rect.Bottom - k * rect.Height / 4;
            canvas.DrawLine(rect.Left, y, rect.Right, y, grid);
            canvas.DrawText(Label(maxY * k / 4), rect.Left - 70, y + 5, SKTextAlign.Left, font, ink);
            var x = rect.Left + k * rect.Width / 4;
            canvas.DrawText(Label(maxX * k / 4), x - 10, rect.Bottom + 22, SKTextAlign.Left, font, ink);
        }
        canvas.DrawText("minutes", rect.Right - 60, rect.Bottom + 44, SKTextAlign.Left, font, ink);
        canvas.DrawRect(rect, axis);
    }

    private static string Label(double v) => v >= 100 ? v.ToString("F0") : v >= 10 ? v.ToString("F1") : v.ToString("F2");

    private static double NiceCeiling(double v)
    {
        if (v <= 0)
            return 1;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(v)));
        foreach (var step in (double[])[1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10])
            if (step * magnitude >= v * 1.05)
                return step * magnitude;
        return 10 * magnitude;
    }

    private static SKTypeface LoadTypeface()
    {
        // SkiaSharp's NoDependencies native build has no fontconfig: load a font file where Debian puts DejaVu.
        const string dejaVu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
        return File.Exists(dejaVu) ? SKTypeface.FromFile(dejaVu) : SKTypeface.Default;
    }
}
