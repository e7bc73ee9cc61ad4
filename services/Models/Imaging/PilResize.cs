namespace MultiModal.Models.Imaging;

/// <summary>
/// Bit-exact port of Pillow's convolution resize for 8-bit images (<c>Image.resize(size, filter)</c> without box or
/// reducing_gap; src/libImaging/Resample.c, <c>ImagingResample</c>). HF image processors resize with PIL, and CLIP is
/// sensitive to it: a plain (non-antialiased) bicubic moves pixel values by up to 2.5 after normalisation.
/// How Pillow does it, and so how this does:
/// <list type="bullet">
/// <item>two separable passes, horizontal first, each only where the size changes;</item>
/// <item>the filter is stretched by the downscale factor (antialiasing), so a 10× reduction averages ±20 pixels for
/// bicubic; coefficients are computed in double, normalised to sum 1 per output pixel, then rounded to fixed point
/// with <see cref="PrecisionBits"/> fractional bits;</item>
/// <item>sums are 32-bit integers starting at one half, and each result is clipped to 0..255 after the shift, in
/// both passes (the intermediate image is uint8 too);</item>
/// <item>the horizontal pass computes only the rows the vertical pass will read.</item>
/// </list>
/// Channels are independent, so any channel count gives the same bytes Pillow gives per band.
/// </summary>
public static class PilResize
{
    /// <summary>8 bits for the result plus 2 for overshoot of negative lobes, out of a 32-bit sum (Pillow's choice).</summary>
    public const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Resizes a packed RGB image like <c>PIL.Image.resize((width, height), filter)</c> on mode "RGB".</summary>
    public static DecodedImage Resize(DecodedImage image, int width, int height, PilResample filter = PilResample.Bicubic)
    {
        ArgumentNullException.ThrowIfNull(image);
        var rgb = Resize(image.Rgb, image.Width, image.Height, 3, width, height, filter);
        return new DecodedImage(width, height, rgb);
    }

    /// <summary>
    /// Resizes packed 8-bit pixels (<paramref name="inHeight"/>, <paramref name="inWidth"/>, <paramref name="channels"/>)
    /// to (<paramref name="outHeight"/>, <paramref name="outWidth"/>, channels). Same size returns a copy, as Pillow does.
    /// </summary>
    public static byte[] Resize(ReadOnlySpan<byte> pixels, int inWidth, int inHeight, int channels,
        int outWidth, int outHeight, PilResample filter = PilResample.Bicubic) =>
        ResizeWindow(pixels, inWidth, inHeight, channels, outWidth, outHeight, 0, 0, outWidth, outHeight, filter);

    /// <summary>
    /// The window (<paramref name="windowLeft"/>, <paramref name="windowTop"/>, <paramref name="windowWidth"/> ×
    /// <paramref name="windowHeight"/>) of <see cref="Resize(ReadOnlySpan{byte}, int, int, int, int, int, PilResample)"/>'s
    /// output, computed without the rest: resize followed by a crop (CLIP's shortest-edge resize + center crop) in one
    /// step. Every output pixel depends only on its own coefficients, so the bytes equal the crop of the full resize;
    /// only the source rows and output columns the window needs are computed. The window must lie inside the output.
    /// </summary>
    public static byte[] ResizeWindow(ReadOnlySpan<byte> pixels, int inWidth, int inHeight, int channels,
        int outWidth, int outHeight, int windowLeft, int windowTop, int windowWidth, int windowHeight,
        PilResample filter = PilResample.Bicubic)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegative(windowLeft);
        ArgumentOutOfRangeException.ThrowIfNegative(windowTop);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(windowWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(windowHeight);
        if (windowLeft + windowWidth > outWidth || windowTop + windowHeight > outHeight)
            throw new ArgumentException(
                $"window {windowWidth}x{windowHeight} at ({windowLeft}, {windowTop}) is outside the {outWidth}x{outHeight} output");
        if (pixels.Length != (long)inWidth * inHeight * channels)
            throw new ArgumentException(
                $"expected {(long)inWidth * inHeight * channels} bytes for {inWidth}x{inHeight}x{channels}, got {pixels.Length}",
                nameof(pixels));
        var kernel = Kernel.For(filter);

        var needHorizontal = outWidth != inWidth;
        var needVertical = outHeight != inHeight;
        if (!needHorizontal && !needVertical)
            return Crop(pixels, inWidth, channels, windowLeft, windowTop, windowWidth, windowHeight);

        // Vertical coefficients first: they say which source rows the horizontal pass must produce.
        int firstRow = windowTop, lastRow = windowTop + windowHeight; // source rows, when there is no vertical pass
        Coefficients? vertical = null;
        if (needVertical)
        {
            vertical = Coefficients.Compute(inHeight, outHeight, kernel, windowTop, windowHeight);
            firstRow = vertical.Bounds.Where((_, i) => i % 2 == 0).Min();
            lastRow = Enumerable.Range(0, windowHeight).Max(i => vertical.Bounds[i * 2] + vertical.Bounds[i * 2 + 1]);
        }

        byte[]? source = null;
        var sourceWidth = inWidth;
        var sourceLeft = windowLeft; // column of the window in the source rows the vertical pass reads
        if (needHorizontal)
        {
            var horizontal = Coefficients.Compute(inWidth, outWidth, kernel, windowLeft, windowWidth);
            source = ResampleHorizontal(pixels, inWidth, channels, firstRow, lastRow - firstRow, windowWidth, horizontal);
            sourceWidth = windowWidth;
            sourceLeft = 0;
            if (!needVertical)
                return source;
        }
        for (var i = 0; i < windowHeight; i++)
            vertical!.Bounds[i * 2] -= firstRow; // rows of the (intermediate) image start at firstRow

        var rows = source is null
            ? pixels.Slice(firstRow * inWidth * channels, (lastRow - firstRow) * inWidth * channels)
            : source;
        return ResampleVertical(rows, sourceWidth, channels, sourceLeft, windowWidth, windowHeight, vertical!);
    }

    private static byte[] Crop(ReadOnlySpan<byte> pixels, int width, int channels, int left, int top, int cropWidth, int cropHeight)
    {
        var output = new byte[(long)cropWidth * cropHeight * channels];
        for (var y = 0; y < cropHeight; y++)
            pixels.Slice(((top + y) * width + left) * channels, cropWidth * channels)
                .CopyTo(output.AsSpan(y * cropWidth * channels, cropWidth * channels));
        return output;
    }

    // (rows, outWidth, C) <- (rows starting at rowOffset, inWidth, C). Integer sums are exact (wrapping like C's
    // int), so accumulating in a different order than Pillow's loops gives the same bytes.
    private static byte[] ResampleHorizontal(ReadOnlySpan<byte> input, int inWidth, int channels, int rowOffset,
        int rows, int outWidth, Coefficients c)
    {
        var output = new byte[(long)rows * outWidth * channels];
        var k = c.FixedPoint();
        Span<int> sums = stackalloc int[channels];
        for (var yy = 0; yy < rows; yy++)
        {
            var inRow = input.Slice((yy + rowOffset) * inWidth * channels, inWidth * channels);
            var outRow = output.AsSpan(yy * outWidth * channels, outWidth * channels);
            for (var xx = 0; xx < outWidth; xx++)
            {
                var count = c.Bounds[xx * 2 + 1];
                var window = inRow.Slice(c.Bounds[xx * 2] * channels, count * channels);
                var weights = k.AsSpan(xx * c.KernelSize, count);
                if (channels == 3)
                {
                    // RGB, the common case: one pass over the window, as Pillow does for its 3-band images.
                    int s0 = 1 << (PrecisionBits - 1), s1 = s0, s2 = s0;
                    for (var x = 0; x < weights.Length; x++)
                    {
                        var w = weights[x];
                        s0 += window[x * 3] * w;
                        s1 += window[x * 3 + 1] * w;
                        s2 += window[x * 3 + 2] * w;
                    }
                    outRow[xx * 3] = Clip8(s0);
                    outRow[xx * 3 + 1] = Clip8(s1);
                    outRow[xx * 3 + 2] = Clip8(s2);
                    continue;
                }
                sums.Fill(1 << (PrecisionBits - 1));
                for (var x = 0; x < weights.Length; x++)
                    for (var ch = 0; ch < channels; ch++)
                        sums[ch] += window[x * channels + ch] * weights[x];
                for (var ch = 0; ch < channels; ch++)
                    outRow[xx * channels + ch] = Clip8(sums[ch]);
            }
        }
        return output;
    }

    // (outHeight, width, C) <- columns [left, left + width) of (rows, inWidth, C): each output row is a weighted sum of
    // whole input rows, accumulated row by row with SIMD (cache friendly; the same integer sums as Pillow's
    // column-by-column loop).
    private static byte[] ResampleVertical(ReadOnlySpan<byte> input, int inWidth, int channels, int left, int width,
        int outHeight, Coefficients c)
    {
        var inStride = inWidth * channels;
        var stride = width * channels;
        var output = new byte[(long)outHeight * stride];
        var k = c.FixedPoint();
        var sums = new int[stride];
        for (var yy = 0; yy < outHeight; yy++)
        {
            var ymin = c.Bounds[yy * 2];
            var weights = k.AsSpan(yy * c.KernelSize, c.Bounds[yy * 2 + 1]);
            Array.Fill(sums, 1 << (PrecisionBits - 1));
            for (var y = 0; y < weights.Length; y++)
                MultiplyAdd(input.Slice((y + ymin) * inStride + left * channels, stride), weights[y], sums);
            var outRow = output.AsSpan(yy * stride, stride);
            for (var i = 0; i < outRow.Length; i++)
                outRow[i] = Clip8(sums[i]);
        }
        return output;
    }

    // sums[i] += row[i] * w, wrapping int arithmetic (exact: the same bits in any order or vector width).
    private static void MultiplyAdd(ReadOnlySpan<byte> row, int w, Span<int> sums)
    {
        var i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated && row.Length >= System.Numerics.Vector<byte>.Count)
        {
            var n = System.Numerics.Vector<int>.Count;
            var weight = new System.Numerics.Vector<int>(w);
            for (; i + System.Numerics.Vector<byte>.Count <= row.Length; i += System.Numerics.Vector<byte>.Count)
            {
                var bytes = new System.Numerics.Vector<byte>(row.Slice(i));
                System.Numerics.Vector.Widen(bytes, out var lo16, out var hi16);
                System.Numerics.Vector.Widen(lo16, out var a, out var b);
                System.Numerics.Vector.Widen(hi16, out var c, out var d);
                var s = sums.Slice(i);
                Accumulate(s, 0, System.Numerics.Vector.AsVectorInt32(a), weight);
                Accumulate(s, n, System.Numerics.Vector.AsVectorInt32(b), weight);
                Accumulate(s, 2 * n, System.Numerics.Vector.AsVectorInt32(c), weight);
                Accumulate(s, 3 * n, System.Numerics.Vector.AsVectorInt32(d), weight);
            }
        }
        for (; i < row.Length; i++)
            sums[i] += row[i] * w;
    }

    private static void Accumulate(Span<int> sums, int offset, System.Numerics.Vector<int> values, System.Numerics.Vector<int> weight)
    {
        var target = sums.Slice(offset, System.Numerics.Vector<int>.Count);
        (new System.Numerics.Vector<int>(target) + values * weight).CopyTo(target);
    }

    // Pillow's clip8 lookup table maps (ss >> PRECISION_BITS) in -640..639 to 0..255 by clamping.
    private static byte Clip8(int ss) => (byte)Math.Clamp(ss >> PrecisionBits, 0, 255);

    /// <summary>One separable filter: the weight function and its support radius at scale 1.</summary>
    private sealed record Kernel(Func<double, double> Weight, double Support)
    {
        public static Kernel For(PilResample filter) => filter switch
        {
            PilResample.Box => new(BoxWeight, 0.5),
            PilResample.Bilinear => new(BilinearWeight, 1.0),
            PilResample.Hamming => new(HammingWeight, 1.0),
            PilResample.Bicubic => new(BicubicWeight, 2.0),
            PilResample.Lanczos => new(LanczosWeight, 3.0),
            _ => throw new ArgumentOutOfRangeException(nameof(filter), filter,
                "unsupported resampling filter (Pillow's NEAREST is not a convolution and is not ported)"),
        };

        private static double BoxWeight(double x) => x > -0.5 && x <= 0.5 ? 1.0 : 0.0;

        private static double BilinearWeight(double x)
        {
            x = Math.Abs(x);
            return x < 1.0 ? 1.0 - x : 0.0;
        }

        private static double HammingWeight(double x)
        {
            x = Math.Abs(x);
            if (x == 0.0) return 1.0;
            if (x >= 1.0) return 0.0;
            x *= Math.PI;
            // The float literals are Pillow's (0.54f, 0.46f): widened to double, they are not exactly 0.54 / 0.46.
            return Math.Sin(x) / x * (0.54f + 0.46f * Math.Cos(x));
        }

        // Keys' cubic convolution with a = -0.5 (Pillow; Catmull-Rom), not OpenCV/torch's a = -0.75.
        private static double BicubicWeight(double x)
        {
            const double a = -0.5;
            x = Math.Abs(x);
            if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
            if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
            return 0.0;
        }

        private static double Sinc(double x)
        {
            if (x == 0.0) return 1.0;
            x *= Math.PI;
            return Math.Sin(x) / x;
        }

        private static double LanczosWeight(double x) => -3.0 <= x && x < 3.0 ? Sinc(x) * Sinc(x / 3) : 0.0;
    }

    /// <summary>
    /// Per output pixel: the first input index and how many inputs it reads (<see cref="Bounds"/>, pairs), and
    /// <see cref="KernelSize"/> normalised weights each (zero past the count). Pillow's <c>precompute_coeffs</c>.
    /// </summary>
    private sealed class Coefficients
    {
        public required int KernelSize { get; init; }
        public required int[] Bounds { get; init; }
        public required double[] Weights { get; init; }

        /// <summary>The coefficients of output pixels [first, first + count) of an outSize resize (all by default).</summary>
        public static Coefficients Compute(int inSize, int outSize, Kernel kernel, int first = 0, int count = -1)
        {
            if (count < 0) count = outSize;
            // Pillow passes the box as floats; the full image (0, inSize) is exact in float.
            float in0 = 0f, in1 = inSize;
            var scale = (double)(in1 - in0) / outSize;
            var filterScale = Math.Max(scale, 1.0); // stretch the filter only when shrinking (antialias)
            var support = kernel.Support * filterScale;
            var kernelSize = (int)Math.Ceiling(support) * 2 + 1;
            if ((long)outSize * kernelSize > Array.MaxLength)
                throw new ArgumentOutOfRangeException(nameof(outSize), "resize coefficient table too large");

            var weights = new double[count * kernelSize];
            var bounds = new int[count * 2];
            var inverseScale = 1.0 / filterScale;
            for (var xx = 0; xx < count; xx++)
            {
                var center = in0 + (xx + first + 0.5) * scale;
                // (int) truncates toward zero, as C's cast does: these are Pillow's "round the value" lines.
                var xmin = Math.Max((int)(center - support + 0.5), 0);
                var xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
                var k = weights.AsSpan(xx * kernelSize, kernelSize);
                var sum = 0.0;
                for (var x = 0; x < xmax; x++)
                {
                    var w = kernel.Weight((x + xmin - center + 0.5) * inverseScale);
                    k[x] = w;
                    sum += w;
                }
                if (sum != 0.0)
                    for (var x = 0; x < xmax; x++)
                        k[x] /= sum;
                bounds[xx * 2] = xmin;
                bounds[xx * 2 + 1] = xmax;
            }
            return new Coefficients { KernelSize = kernelSize, Bounds = bounds, Weights = weights };
        }

        /// <summary>Weights × 2^PrecisionBits rounded half away from zero (Pillow's <c>normalize_coeffs_8bpc</c>).</summary>
        public int[] FixedPoint()
        {
            var fixedPoint = new int[Weights.Length];
            for (var i = 0; i < Weights.Length; i++)
                fixedPoint[i] = Weights[i] < 0
                    ? (int)(-0.5 + Weights[i] * (1 << PrecisionBits))
                    : (int)(0.5 + Weights[i] * (1 << PrecisionBits));
            return fixedPoint;
        }
    }
}
