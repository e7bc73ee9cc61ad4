namespace MultiModal.Models.Imaging;

/// <summary>
/// An 8-bit RGB image, packed row-major (height, width, 3): the pixel at (x, y) starts at <c>(y * Width + x) * 3</c>.
/// This is what PIL's <c>Image.convert("RGB")</c> holds: alpha dropped (not composited), grey replicated.
/// </summary>
public sealed class DecodedImage
{
    /// <summary>Wraps packed RGB bytes (not copied).</summary>
    public DecodedImage(int width, int height, byte[] rgb)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(rgb);
        if (rgb.LongLength != (long)width * height * 3)
            throw new ArgumentException($"expected {(long)width * height * 3} RGB bytes for {width}x{height}, got {rgb.LongLength}", nameof(rgb));
        (Width, Height, Rgb) = (width, height, rgb);
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>(H, W, 3) uint8, row-major, no padding between rows.</summary>
    public byte[] Rgb { get; }

    /// <summary>The R, G, B bytes of the pixel at column <paramref name="x"/>, row <paramref name="y"/>.</summary>
    public (byte R, byte G, byte B) this[int x, int y]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(x);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(x, Width);
            ArgumentOutOfRangeException.ThrowIfNegative(y);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(y, Height);
            var i = ((long)y * Width + x) * 3;
            return (Rgb[i], Rgb[i + 1], Rgb[i + 2]);
        }
    }
}
