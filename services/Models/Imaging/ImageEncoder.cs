using System.Runtime.InteropServices;
using SkiaSharp;

namespace MultiModal.Models.Imaging;

/// <summary>Encodes RGB images (generated or resized) to PNG, JPEG or WebP with SkiaSharp.</summary>
public static class ImageEncoder
{
    /// <summary>Lossless PNG.</summary>
    public static byte[] EncodePng(DecodedImage image) => Encode(image, SKEncodedImageFormat.Png, 100);

    /// <summary>PNG with one text chunk, e.g. <c>("parameters", prompt and settings)</c>; see <see cref="PngTextChunks"/>.</summary>
    public static byte[] EncodePng(DecodedImage image, string keyword, string text) =>
        PngTextChunks.Insert(EncodePng(image), keyword, text);

    /// <summary>Baseline JPEG at <paramref name="quality"/> (0-100).</summary>
    public static byte[] EncodeJpeg(DecodedImage image, int quality = 90) => Encode(image, SKEncodedImageFormat.Jpeg, quality);

    /// <summary>Lossy WebP at <paramref name="quality"/> (0-100).</summary>
    public static byte[] EncodeWebp(DecodedImage image, int quality = 90) => Encode(image, SKEncodedImageFormat.Webp, quality);

    /// <summary>PNG, JPEG or WebP; <paramref name="quality"/> (0-100) is ignored for PNG.</summary>
    public static byte[] Encode(DecodedImage image, SKEncodedImageFormat format, int quality)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegative(quality);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quality, 100);

        // Skia has no 3-byte pixel format: widen to RGBA with opaque alpha.
        var rgba = new byte[(long)image.Width * image.Height * 4];
        for (long src = 0, dst = 0; src < image.Rgb.LongLength; src += 3, dst += 4)
        {
            rgba[dst] = image.Rgb[src];
            rgba[dst + 1] = image.Rgb[src + 1];
            rgba[dst + 2] = image.Rgb[src + 2];
            rgba[dst + 3] = 255;
        }

        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            using var pixmap = new SKPixmap(info, handle.AddrOfPinnedObject(), info.RowBytes);
            using var data = format switch
            {
                SKEncodedImageFormat.Png => pixmap.Encode(SKPngEncoderOptions.Default),
                SKEncodedImageFormat.Jpeg => pixmap.Encode(new SKJpegEncoderOptions(quality)),
                SKEncodedImageFormat.Webp => pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossy, quality)),
                _ => throw new ArgumentOutOfRangeException(nameof(format), format, "only PNG, JPEG and WebP can be written"),
            };
            return data?.ToArray() ?? throw new InvalidOperationException($"Skia could not encode a {image.Width}x{image.Height} {format}");
        }
        finally
        {
            handle.Free();
        }
    }
}
