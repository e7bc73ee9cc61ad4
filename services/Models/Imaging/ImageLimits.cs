using SkiaSharp;

namespace MultiModal.Models.Imaging;

/// <summary>
/// What <see cref="ImageDecoder"/> accepts. Checked in order of cost: byte length, then the format and the dimensions
/// read from the header, and only then are pixels decoded, so an oversized image never allocates its pixel buffer.
/// </summary>
public sealed record ImageLimits
{
    /// <summary>The formats every service accepts unless configured otherwise.</summary>
    public static readonly IReadOnlySet<SKEncodedImageFormat> DefaultFormats = new HashSet<SKEncodedImageFormat>
    {
        SKEncodedImageFormat.Png, SKEncodedImageFormat.Jpeg, SKEncodedImageFormat.Webp,
        SKEncodedImageFormat.Bmp, SKEncodedImageFormat.Gif,
    };

    /// <summary>The default limits (20 MiB, 40 megapixels, PNG/JPEG/WebP/BMP/GIF).</summary>
    public static ImageLimits Default { get; } = new();

    /// <summary>Largest encoded file accepted, in bytes (default 20 MiB).</summary>
    public long MaxBytes { get; init; } = 20L << 20;

    /// <summary>Largest width × height accepted, read from the header before decoding (default 40 000 000).</summary>
    public long MaxPixels { get; init; } = 40_000_000;

    /// <summary>Container formats accepted; any other format SkiaSharp recognises is rejected by name.</summary>
    public IReadOnlySet<SKEncodedImageFormat> AllowedFormats { get; init; } = DefaultFormats;
}
