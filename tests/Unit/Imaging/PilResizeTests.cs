using MultiModal.Models.Imaging;
using Xunit;

namespace MultiModal.Tests.Unit.Imaging;

public sealed class PilResizeTests
{
    private static byte[] Row(params byte[] values) => values;

    private static byte[] RandomPixels(int count, int seed)
    {
        var data = new byte[count];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Fact]
    public void Resize_SameSize_ReturnsEqualCopy()
    {
        var pixels = RandomPixels(5 * 4 * 3, seed: 1);

        var resized = PilResize.Resize(pixels, 5, 4, 3, 5, 4);

        Assert.Equal(pixels, resized);
        Assert.NotSame(pixels, resized);
    }

    [Theory]
    [InlineData(PilResample.Bicubic, 37, 23, 8, 5)]
    [InlineData(PilResample.Bicubic, 8, 5, 37, 23)]
    [InlineData(PilResample.Lanczos, 100, 3, 7, 11)]
    [InlineData(PilResample.Bilinear, 9, 9, 4, 13)]
    [InlineData(PilResample.Box, 30, 20, 7, 6)]
    [InlineData(PilResample.Hamming, 30, 20, 7, 6)]
    public void Resize_ConstantImage_StaysConstant(PilResample filter, int w, int h, int outW, int outH)
    {
        foreach (var value in new byte[] { 0, 1, 77, 128, 254, 255 })
        {
            var pixels = Enumerable.Repeat(value, w * h * 3).ToArray();

            var resized = PilResize.Resize(pixels, w, h, 3, outW, outH, filter);

            Assert.Equal(outW * outH * 3, resized.Length);
            Assert.All(resized, b => Assert.Equal(value, b));
        }
    }

    // Hand-derived from Resample.c. Shrinking 2 -> 1: the filter is stretched ×2 (support 4), both inputs sit at
    // distance 0.25 (scaled), so the weights are equal: (0 + 255) / 2 = 127.5 rounds up (sums start at one half).
    [Fact]
    public void Resize_TwoPixelsToOne_AveragesAndRoundsHalfUp()
    {
        Assert.Equal(Row(128), PilResize.Resize(Row(0, 255), 2, 1, 1, 1, 1));
    }

    // 4 -> 2, bicubic a = -0.5 stretched ×2: output 0 reads inputs at scaled distances -0.25, 0.25, 0.75, 1.25 with
    // weights 0.8671875, 0.8671875, 0.2265625, -0.0703125 (sum 1.890625):
    // 255 * (0.2265625 - 0.0703125) / 1.890625 = 21.07 -> 21, and by symmetry 255 * 1.734375 / 1.890625 = 233.9 -> 234.
    [Fact]
    public void Resize_StepDownscaledBicubic_MatchesHandComputedPillowValues()
    {
        Assert.Equal(Row(21, 234), PilResize.Resize(Row(0, 0, 255, 255), 4, 1, 1, 2, 1));
    }

    // Same step with the triangle filter (support 1 stretched to 2): weights 0.75, 0.75, 0.25, 0 (sum 1.75):
    // 255 * 0.25 / 1.75 = 36.4 -> 36 and 255 * 1.5 / 1.75 = 218.6 -> 219.
    [Fact]
    public void Resize_StepDownscaledBilinear_MatchesHandComputedPillowValues()
    {
        Assert.Equal(Row(36, 219), PilResize.Resize(Row(0, 0, 255, 255), 4, 1, 1, 2, 1, PilResample.Bilinear));
    }

    // 2 -> 4 upscale (no stretch, support 2). Output centres at 0.25, 0.75, 1.25, 1.75 in input coordinates;
    // e.g. centre 0.75 reads input 0 at distance -0.25 (0.8671875) and input 1 at 0.75 (0.2265625):
    // 255 * 0.2265625 / 1.09375 = 52.8 -> 53. The ends overshoot (-22.5, 277.5) and are clipped to 0 and 255.
    [Fact]
    public void Resize_TwoPixelsUpscaledBicubic_OvershootsAndClips()
    {
        Assert.Equal(Row(0, 53, 202, 255), PilResize.Resize(Row(0, 255), 2, 1, 1, 4, 1));
    }

    // The box filter shrinking 2 -> 1 is a plain average.
    [Fact]
    public void Resize_Box_AveragesPairs()
    {
        Assert.Equal(Row(15, 35), PilResize.Resize(Row(10, 20, 30, 40), 4, 1, 1, 2, 1, PilResample.Box));
    }

    [Fact]
    public void Resize_VerticalOnly_EqualsHorizontalOnlyOfTransposed()
    {
        // One pass each, no intermediate rounding: a column resize is the row resize of the transpose.
        const int w = 3, h = 17, outH = 6;
        var pixels = RandomPixels(w * h, seed: 2);
        var transposed = new byte[w * h];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                transposed[x * h + y] = pixels[y * w + x];

        var vertical = PilResize.Resize(pixels, w, h, 1, w, outH);
        var horizontal = PilResize.Resize(transposed, h, w, 1, outH, w);

        for (var y = 0; y < outH; y++)
            for (var x = 0; x < w; x++)
                Assert.Equal(horizontal[x * outH + y], vertical[y * w + x]);
    }

    [Theory]
    [InlineData(300, 200, 48, 32)]
    [InlineData(40, 90, 13, 70)]
    [InlineData(20, 20, 45, 7)]
    public void Resize_BothAxes_EqualsHorizontalThenVerticalPass(int w, int h, int outW, int outH)
    {
        // Pillow's two passes with a uint8 intermediate; the combined call only computes the rows the vertical pass
        // reads, which must not change any value.
        var pixels = RandomPixels(w * h * 3, seed: 3);

        var combined = PilResize.Resize(pixels, w, h, 3, outW, outH);
        var stepwise = PilResize.Resize(PilResize.Resize(pixels, w, h, 3, outW, h), outW, h, 3, outW, outH);

        Assert.Equal(stepwise, combined);
    }

    [Theory]
    [InlineData(640, 480, 3, 298, 224, 37, 0, 224, 224)]   // CLIP: shortest edge 224, center crop of a landscape image
    [InlineData(480, 640, 3, 224, 298, 0, 37, 224, 224)]   // portrait: the window skips rows
    [InlineData(50, 40, 1, 50, 30, 5, 3, 20, 21)]          // vertical pass only
    [InlineData(50, 40, 4, 23, 40, 2, 9, 17, 30)]          // horizontal pass only
    [InlineData(30, 20, 3, 30, 20, 4, 2, 10, 11)]          // same size: a plain crop
    [InlineData(20, 15, 3, 61, 47, 0, 0, 61, 47)]          // upscale, the whole output
    [InlineData(97, 13, 3, 40, 29, 39, 28, 1, 1)]          // one pixel in the corner
    public void ResizeWindow_AnyWindow_EqualsCropOfFullResize(int w, int h, int channels, int outW, int outH, int left, int top, int windowW, int windowH)
    {
        var pixels = RandomPixels(w * h * channels, seed: 5);
        foreach (var filter in new[] { PilResample.Bicubic, PilResample.Bilinear, PilResample.Lanczos, PilResample.Box })
        {
            var full = PilResize.Resize(pixels, w, h, channels, outW, outH, filter);

            var window = PilResize.ResizeWindow(pixels, w, h, channels, outW, outH, left, top, windowW, windowH, filter);

            var expected = new byte[windowW * windowH * channels];
            for (var y = 0; y < windowH; y++)
                Array.Copy(full, ((top + y) * outW + left) * channels, expected, y * windowW * channels, windowW * channels);
            Assert.Equal(expected, window);
        }
    }

    [Fact]
    public void ResizeWindow_OutsideOutput_Throws()
    {
        var pixels = RandomPixels(10 * 10 * 3, seed: 6);

        var e = Assert.Throws<ArgumentException>(() => PilResize.ResizeWindow(pixels, 10, 10, 3, 8, 8, 4, 0, 5, 8));

        Assert.Contains("outside the 8x8 output", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resize_Channels_AreIndependent()
    {
        var pixels = RandomPixels(11 * 7 * 3, seed: 4);

        var rgb = PilResize.Resize(pixels, 11, 7, 3, 5, 4);

        for (var c = 0; c < 3; c++)
        {
            var plane = pixels.Where((_, i) => i % 3 == c).ToArray();
            var resizedPlane = PilResize.Resize(plane, 11, 7, 1, 5, 4);
            Assert.Equal(resizedPlane, rgb.Where((_, i) => i % 3 == c).ToArray());
        }
    }

    [Fact]
    public void Resize_WrongBufferLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => PilResize.Resize(new byte[10], 2, 2, 3, 1, 1));
    }
}
