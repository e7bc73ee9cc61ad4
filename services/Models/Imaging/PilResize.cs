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
        int outWidth, int outHeight, PilResample filter = PilResample.Bicubic)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        if (pixels.Length != (long)inWidth * inHeight * channels)
            throw new ArgumentException(
                $"expected {(long)inWidth * inHeight * channels} bytes for {inWidth}x{inHeight}x{channels}, got {pixels.Length}",
                nameof(pixels));
        var kernel = Kernel.For(filter);

        var needHorizontal = outWidth != inWidth;
        var needVertical = outHeight != inHeight;
        if (!needHorizontal && !needVertical)
            return pixels.ToArray();

        // Vertical coefficients first: they say which source rows the horizontal pass must produce.
        var vertical = Coefficients.Compute(inHeight, outHeight, kernel);
        var firstRow = vertical.Bounds[0];
        var lastRow = vertical.Bounds[(outHeight - 1) * 2] + vertical.Bounds[(outHeight - 1) * 2 + 1];

        byte[]? source = null;
        var sourceWidth = inWidth;
        if (needHorizontal)
        {
            var horizontal = Coefficients.Compute(inWidth, outWidth, kernel);
            for (var i = 0; i < outHeight; i++)
                vertical.Bounds[i * 2] -= firstRow; // rows of the intermediate image start at firstRow
            source = ResampleHorizontal(pixels, inWidth, channels, firstRow, lastRow - firstRow, outWidth, horizontal);
            sourceWidth = outWidth;
            if (!needVertical)
                return source;
        }

        return source is null
            ? ResampleVertical(pixels, sourceWidth, channels, outHeight, vertical)
            : ResampleVertical(source, sourceWidth, channels, outHeight, vertical);
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
                sums.Fill(1 << (PrecisionBits - 1));
                if (channels == 3)
                {
                    // RGB, the common case: one pass over the window, as Pillow does for its 3-band images.
                    int s0 = sums[0], s1 = sums[1], s2 = sums[2];
                    for (var x = 0; x < weights.Length; x++)
                    {
                        var w = weights[x];
                        s0 += window[x * 3] * w;
                        s1 += window[x * 3 + 1] * w;
                        s2 += window[x * 3 + 2] * w;
                    }
                    (sums[0], sums[1], sums[2]) = (s0, s1, s2);
                }
                else
                {
                    for (var x = 0; x < weights.Length; x++)
                        for (var ch = 0; ch < channels; ch++)
                            sums[ch] += window[x * channels + ch] * weights[x];
                }
                for (var ch = 0; ch < channels; ch++)
                    outRow[xx * channels + ch] = Clip8(sums[ch]);
            }
        }
        return output;
    }

    // (outHeight, width, C) <- (rows, width, C): each output row is a weighted sum of whole input rows, accumulated
    // row by row (cache friendly; the same integer sums as Pillow's column-by-column loop).
    private static byte[] ResampleVertical(ReadOnlySpan<byte> input, int width, int channels, int outHeight,
        Coefficients c)
    {
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
            {
                var w = weights[y];
                var inRow = input.Slice((y + ymin) * stride, stride);
                for (var i = 0; i < inRow.Length; i++)
                    sums[i] += inRow[i] * w;
            }
            var outRow = output.AsSpan(yy * stride, stride);
            for (var i = 0; i < outRow.Length; i++)
                outRow[i] = Clip8(sums[i]);
        }
        return output;
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

        public static Coefficients Compute(int inSize, int outSize, Kernel kernel)
        {
            // Pillow passes the box as floats; the full image (0, inSize) is exact in float.
            float in0 = 0f, in1 = inSize;
            var scale = (double)(in1 - in0) / outSize;
            var filterScale = Math.Max(scale, 1.0); // stretch the filter only when shrinking (antialias)
            var support = kernel.Support * filterScale;
            var kernelSize = (int)Math.Ceiling(support) * 2 + 1;
            if ((long)outSize * kernelSize > Array.MaxLength)
                throw new ArgumentOutOfRangeException(nameof(outSize), "resize coefficient table too large");

            var weights = new double[outSize * kernelSize];
            var bounds = new int[outSize * 2];
            var inverseScale = 1.0 / filterScale;
            for (var xx = 0; xx < outSize; xx++)
            {
                var center = in0 + (xx + 0.5) * scale;
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
