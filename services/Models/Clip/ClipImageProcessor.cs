using MultiModal.Models.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Clip;

/// <summary>
/// CLIPImageProcessor (transformers 4.36) on an already decoded RGB image:
/// 1. resize with PIL's antialiased filter on uint8 so the shortest edge is <c>size</c> (other edge truncated:
///    <c>int(size * long / short)</c>), 2. center crop (zero padding when the image is smaller),
/// 3. × rescale_factor (float64, then float32), 4. (x - mean) / std in float32, 5. HWC → CHW.
/// Each step keeps transformers' dtypes and rounding so the output matches its <c>pixel_values</c>.
/// </summary>
public sealed class ClipImageProcessor
{
    private const int Channels = 3;

    public ClipImageProcessor(ClipImageProcessorConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.DoCenterCrop && config.CropHeight != config.CropWidth)
            throw new ArgumentException($"CLIP vision towers take square images; crop_size is {config.CropHeight}x{config.CropWidth}");
        Config = config;
    }

    public ClipImageProcessorConfig Config { get; }

    /// <summary>Side of the square model input (the crop size), e.g. 224.</summary>
    public int ImageSize => Config.CropHeight;

    /// <summary>Reads <c>preprocessor_config.json</c> from a Hugging Face model folder.</summary>
    public static ClipImageProcessor FromFolder(string directory) =>
        new(ClipImageProcessorConfig.FromFile(Path.Combine(directory, "preprocessor_config.json")));

    /// <summary>(height, width) of <see cref="Preprocess"/>'s output for an image of this size.</summary>
    public (int Height, int Width) OutputSize(int width, int height)
    {
        if (Config.DoCenterCrop)
            return (Config.CropHeight, Config.CropWidth);
        return Config.DoResize ? ResizedSize(width, height) : (height, width);
    }

    /// <summary>The model input for one image: float32 (3, H, W), H × W = <see cref="OutputSize"/>.</summary>
    public float[] Preprocess(DecodedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (height, width, rgb) = (image.Height, image.Width, image.Rgb);

        // 1. Resize (uint8 in, uint8 out).
        if (Config.DoResize)
        {
            var (newHeight, newWidth) = ResizedSize(width, height);
            rgb = PilResize.Resize(rgb, width, height, Channels, newWidth, newHeight, Config.Resample);
            (height, width) = (newHeight, newWidth);
        }

        // 2. Center crop, still uint8.
        if (Config.DoCenterCrop)
        {
            rgb = CenterCrop(rgb, width, height, Config.CropWidth, Config.CropHeight);
            (height, width) = (Config.CropHeight, Config.CropWidth);
        }

        // 3-5. Rescale, normalise, HWC -> CHW.
        var plane = height * width;
        var output = new float[Channels * plane];
        for (var c = 0; c < Channels; c++)
        {
            var mean = Config.ImageMean[c];
            var std = Config.ImageStd[c];
            for (var i = 0; i < plane; i++)
            {
                // rescale(): uint8 * python float is float64, then .astype(float32).
                var x = Config.DoRescale ? (float)(rgb[i * Channels + c] * Config.RescaleFactor) : rgb[i * Channels + c];
                // normalize(): (image - mean) / std with float32 arrays, so float32 arithmetic.
                output[c * plane + i] = Config.DoNormalize ? (x - mean) / std : x;
            }
        }
        return output;
    }

    /// <summary>Stacks preprocessed images into a float32 CPU tensor (N, 3, H, W); all must come out the same size.</summary>
    public Tensor PreprocessBatch(IReadOnlyList<DecodedImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0)
            throw new ArgumentException("at least one image is required", nameof(images));
        var (height, width) = OutputSize(images[0].Width, images[0].Height);
        var plane = Channels * height * width;
        var batch = new float[images.Count * plane];
        for (var n = 0; n < images.Count; n++)
        {
            var (h, w) = OutputSize(images[n].Width, images[n].Height);
            if ((h, w) != (height, width))
                throw new ArgumentException(
                    $"image {n} preprocesses to {h}x{w}, image 0 to {height}x{width}; a batch needs one size (enable center crop)");
            Preprocess(images[n]).CopyTo(batch, n * plane);
        }
        return tensor(batch, [images.Count, Channels, height, width], ScalarType.Float32); // (N, 3, H, W)
    }

    // get_resize_output_image_size(default_to_square=False) for shortest_edge; the exact (h, w) otherwise.
    private (int Height, int Width) ResizedSize(int width, int height)
    {
        if (Config.ShortestEdge is not { } size)
            return (Config.SizeHeight!.Value, Config.SizeWidth!.Value);
        var (shortSide, longSide) = width <= height ? (width, height) : (height, width);
        // int(size * long / short): exact integer product, true division in double, truncation.
        var newLong = (int)((double)((long)size * longSide) / shortSide);
        return width <= height ? (newLong, size) : (size, newLong);
    }

    /// <summary>
    /// transformers' center_crop: the window starts at top = (h - crop_h) // 2, left = (w - crop_w) // 2 (floor
    /// division). Where the image is smaller than the crop, transformers pastes it on a zero canvas at
    /// ceil((crop - size) / 2) and takes the whole canvas: in image coordinates that is the same floor formula
    /// (negative), with zeros outside the image.
    /// </summary>
    private static byte[] CenterCrop(byte[] rgb, int width, int height, int cropWidth, int cropHeight)
    {
        if (width == cropWidth && height == cropHeight)
            return rgb;
        var top = FloorDiv(height - cropHeight, 2);
        var left = FloorDiv(width - cropWidth, 2);

        var output = new byte[cropWidth * cropHeight * Channels]; // zeros = padding
        for (var y = 0; y < cropHeight; y++)
        {
            var sy = y + top;
            if (sy < 0 || sy >= height) continue;
            for (var x = 0; x < cropWidth; x++)
            {
                var sx = x + left;
                if (sx < 0 || sx >= width) continue;
                Array.Copy(rgb, (sy * width + sx) * Channels, output, (y * cropWidth + x) * Channels, Channels);
            }
        }
        return output;
    }

    // Python's // rounds toward negative infinity; C#'s / toward zero.
    private static int FloorDiv(int a, int b) => (int)Math.Floor((double)a / b);
}
