using MultiModal.Models.Errors;
using SkiaSharp;

namespace MultiModal.Models.Imaging;

/// <summary>
/// Turns untrusted encoded bytes into <see cref="DecodedImage"/> the way the reference pipelines see them
/// (PIL <c>Image.open(...).convert("RGB")</c>): no EXIF rotation, no colour management, alpha dropped rather than
/// composited, grey replicated to R = G = B, the first frame of an animation. Everything the caller must fix is an
/// <see cref="InputRejectedException"/>; the byte and pixel limits are enforced before any pixel buffer exists.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Decodes <paramref name="data"/> within <paramref name="limits"/>.</summary>
    /// <exception cref="InputRejectedException">Empty, too large, not an allowed format, truncated or corrupt.</exception>
    public static DecodedImage Decode(ReadOnlySpan<byte> data, ImageLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (data.IsEmpty)
            throw new InputRejectedException(InputRejection.Invalid, "image is empty");
        if (data.Length > limits.MaxBytes)
            throw new InputRejectedException(InputRejection.ImageTooLarge,
                $"image is {data.Length} bytes; the limit is {limits.MaxBytes} bytes");

        using var encoded = SKData.CreateCopy(data);
        // Sniffs the signature and parses the header only (libpng/libjpeg-turbo/libwebp read up to the first pixel data).
        using var codec = SKCodec.Create(encoded)
            ?? throw new InputRejectedException(InputRejection.UnsupportedImageFormat,
                $"image data is not a {Names(limits.AllowedFormats)} image");

        var format = codec.EncodedFormat;
        if (!limits.AllowedFormats.Contains(format))
            throw new InputRejectedException(InputRejection.UnsupportedImageFormat,
                $"image format {Name(format)} is not accepted; send a {Names(limits.AllowedFormats)} image");

        var (width, height) = (codec.Info.Width, codec.Info.Height);
        var pixels = (long)width * height;
        if (width <= 0 || height <= 0)
            throw new InputRejectedException(InputRejection.UnsupportedImageFormat, "image header has no size");
        if (pixels > limits.MaxPixels || pixels * 4 > Array.MaxLength)
            throw new InputRejectedException(InputRejection.ImageTooLarge,
                $"image is {width}x{height} = {pixels} pixels; the limit is {limits.MaxPixels} pixels");

        return new DecodedImage(width, height, DecodeRgb(codec, width, height));
    }

    /// <inheritdoc cref="Decode(ReadOnlySpan{byte}, ImageLimits)"/>
    public static DecodedImage Decode(byte[] data, ImageLimits limits)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Decode(data.AsSpan(), limits);
    }

    /// <summary>How a format is named in messages: "PNG", "JPEG", "WebP", "BMP", "GIF", "ICO", ...</summary>
    public static string Name(SKEncodedImageFormat format) => format switch
    {
        SKEncodedImageFormat.Webp => "WebP",
        _ => format.ToString().ToUpperInvariant(),
    };

    // Enum order (BMP, GIF, ICO, JPEG, PNG, ...) would read oddly; the common formats come first.
    private static readonly SKEncodedImageFormat[] DisplayOrder =
        [SKEncodedImageFormat.Png, SKEncodedImageFormat.Jpeg, SKEncodedImageFormat.Webp, SKEncodedImageFormat.Bmp, SKEncodedImageFormat.Gif];

    private static string Names(IReadOnlySet<SKEncodedImageFormat> formats) =>
        string.Join("/", formats.OrderBy(f => Array.IndexOf(DisplayOrder, f) is var i and >= 0 ? i : DisplayOrder.Length + (int)f).Select(Name));

    private static byte[] DecodeRgb(SKCodec codec, int width, int height)
    {
        // Unpremultiplied so that a transparent pixel keeps its colour (PIL's convert("RGB") just drops alpha);
        // no colour space, so Skia applies no gamma/ICC transform (PIL applies none either).
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize64];
        // The default options decode frame 0, which is what PIL's convert() sees for an animated GIF/WebP.
        var result = codec.GetPixels(info, rgba);
        if (result != SKCodecResult.Success)
            throw new InputRejectedException(InputRejection.UnsupportedImageFormat, result switch
            {
                SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput =>
                    "image data is truncated or corrupt",
                _ => $"image could not be decoded ({result})",
            });

        var rgb = new byte[(long)width * height * 3];
        for (long src = 0, dst = 0; dst < rgb.LongLength; src += 4, dst += 3)
        {
            rgb[dst] = rgba[src];
            rgb[dst + 1] = rgba[src + 1];
            rgb[dst + 2] = rgba[src + 2];
        }
        return rgb;
    }
}
