using MultiModal.Models.Errors;
using MultiModal.Models.Imaging;

namespace MultiModal.Tests.Fuzz.Targets;

/// <summary>
/// <see cref="ImageDecoder.Decode(ReadOnlySpan{byte}, ImageLimits)"/> with the services' default limits (20 MiB,
/// 40 megapixels, PNG/JPEG/WebP/BMP/GIF), the entry every service decodes request images through. Clean rejection:
/// <see cref="InputRejectedException"/>. SkiaSharp's native decoders are not instrumented: AFL sees the managed paths
/// (header checks, limits, result mapping) and any native fault as a crash.
/// </summary>
public sealed class ImageDecodeTarget : IFuzzTarget
{
    public const string TargetName = "image";

    public string Name => TargetName;

    public string Description => "encoded image bytes → ImageDecoder.Decode(ImageLimits.Default); rejects with InputRejectedException";

    public void Run(ReadOnlySpan<byte> input)
    {
        DecodedImage image;
        try
        {
            image = ImageDecoder.Decode(input, ImageLimits.Default);
        }
        catch (InputRejectedException)
        {
            return;
        }
        FuzzInvariantException.That((long)image.Width * image.Height <= ImageLimits.Default.MaxPixels,
            $"decoded {image.Width}x{image.Height}, over the pixel limit");
    }
}
