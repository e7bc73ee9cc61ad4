// Port of diffusers v0.25.1 image_processor.py VaeImageProcessor for PIL-style RGB input and "np"/"pil" output:
// preprocess = resize (PIL LANCZOS, the class default) → /255 → 2x − 1; postprocess = (x / 2 + 0.5).clamp(0, 1) and
// numpy_to_pil's (x * 255).round().astype(uint8).
using MultiModal.Models.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Pipelines;

/// <summary>Images in and out of the VAE, exactly as diffusers' <c>VaeImageProcessor</c> makes them.</summary>
public static class VaeImageProcessing
{
    /// <summary>diffusers' default <c>resample</c> ("lanczos") for resizing an init image.</summary>
    public const PilResample Resample = PilResample.Lanczos;

    /// <summary>
    /// An RGB image as the VAE encoder's input (1, 3, <paramref name="height"/>, <paramref name="width"/>) in [-1, 1]:
    /// resized with PIL LANCZOS first when its size differs (Pillow returns a copy for the same size).
    /// </summary>
    public static Tensor Preprocess(DecodedImage image, int width, int height, Device device, ScalarType dtype)
    {
        var sized = image.Width == width && image.Height == height ? image : PilResize.Resize(image, width, height, Resample);
        using var scope = NewDisposeScope();
        // np.array(image).astype(float32) / 255.0, then 2x − 1, in float32 like numpy
        var hwc = torch.tensor(sized.Rgb, [height, width, 3], ScalarType.Byte).to(ScalarType.Float32);
        var chw = hwc.div_(255f).mul_(2f).sub_(1f).permute(2, 0, 1).unsqueeze(0).contiguous();     // (1, 3, H, W)
        return chw.to(dtype, device).MoveToOuterDisposeScope();
    }

    /// <summary>VAE output (B, 3, H, W) → diffusers' <c>output_type="np"</c> image (B, H, W, 3), float32 in [0, 1], on the CPU.</summary>
    public static Tensor ToUnitRange(Tensor decoded)
    {
        using var scope = NewDisposeScope();
        var image = decoded.to(ScalarType.Float32).div(2f).add_(0.5f).clamp_(0f, 1f);
        return image.permute(0, 2, 3, 1).contiguous().cpu().MoveToOuterDisposeScope();            // (B, H, W, 3)
    }

    /// <summary>(B, H, W, 3) float in [0, 1] → one 8-bit image per row: <c>(x * 255).round().astype(uint8)</c> (round half to even).</summary>
    public static IReadOnlyList<DecodedImage> ToImages(Tensor unitRangeNhwc)
    {
        using var scope = NewDisposeScope();
        var bytes = unitRangeNhwc.to(ScalarType.Float32).mul(255f).round_().to(ScalarType.Byte).cpu().contiguous();
        var (b, h, w) = ((int)bytes.shape[0], (int)bytes.shape[1], (int)bytes.shape[2]);
        var all = bytes.data<byte>().ToArray();
        var images = new DecodedImage[b];
        var size = h * w * 3;
        for (var i = 0; i < b; i++)
            images[i] = new DecodedImage(w, h, all.AsSpan(i * size, size).ToArray());
        return images;
    }

    /// <summary>
    /// Shrinks <paramref name="image"/> so its longest side is at most <paramref name="maxSize"/> (aspect kept, PIL
    /// bilinear); returns it unchanged when it already fits or <paramref name="maxSize"/> is 0.
    /// </summary>
    public static DecodedImage FitWithin(DecodedImage image, int maxSize)
    {
        var longest = Math.Max(image.Width, image.Height);
        if (maxSize <= 0 || longest <= maxSize)
            return image;
        var scale = (double)maxSize / longest;
        var w = Math.Max(1, (int)Math.Round(image.Width * scale));
        var h = Math.Max(1, (int)Math.Round(image.Height * scale));
        return PilResize.Resize(image, w, h, PilResample.Bilinear);
    }
}
