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
        var (height, width) = OutputSize(image.Width, image.Height);
        var output = new float[Channels * height * width];
        PreprocessInto(image, output);
        return output;
    }

    /// <summary>
    /// <see cref="Preprocess"/> written into <paramref name="destination"/> (3 × H × W floats, e.g. a pooled buffer or a
    /// batch tensor's memory) with no intermediate float image: the resize computes only the pixels the center crop
    /// keeps (<see cref="PilResize.ResizeWindow"/>), and rescale + normalise + HWC→CHW is one pass through a per-channel
    /// table of the 256 byte values (the same float32 operations as transformers', so the same bits).
    /// </summary>
    public void PreprocessInto(DecodedImage image, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (height, width) = OutputSize(image.Width, image.Height);
        if (destination.Length != Channels * height * width)
            throw new ArgumentException($"expected {Channels * height * width} floats for 3x{height}x{width}, got {destination.Length}", nameof(destination));

        // 1-2. Resize (uint8 in, uint8 out) and center crop, as one windowed resize. The crop window may reach past
        // the resized image (transformers pads with zeros): only the part inside is resized.
        var (resizedHeight, resizedWidth) = Config.DoResize ? ResizedSize(image.Width, image.Height) : (image.Height, image.Width);
        int top = 0, left = 0;
        if (Config.DoCenterCrop)
        {
            top = FloorDiv(resizedHeight - height, 2);    // transformers' center_crop window (negative = padding)
            left = FloorDiv(resizedWidth - width, 2);
        }
        int y0 = Math.Max(top, 0), x0 = Math.Max(left, 0);
        int y1 = Math.Min(top + height, resizedHeight), x1 = Math.Min(left + width, resizedWidth);
        var inside = PilResize.ResizeWindow(image.Rgb, image.Width, image.Height, Channels, resizedWidth, resizedHeight,
            x0, y0, x1 - x0, y1 - y0, Config.DoResize ? Config.Resample : PilResample.Bicubic); // (y1-y0, x1-x0, 3)

        // 3-5. Rescale, normalise, HWC -> CHW through the table; zero bytes where the crop padded.
        var table = Table;
        var plane = height * width;
        var insideWidth = x1 - x0;
        for (var c = 0; c < Channels; c++)
        {
            var lut = table.AsSpan(c * 256, 256);
            var channel = destination.Slice(c * plane, plane);
            if (y1 - y0 != height || insideWidth != width)
                channel.Fill(lut[0]);
            for (var y = y0; y < y1; y++)
            {
                var row = channel.Slice((y - top) * width + (x0 - left), insideWidth);
                var source = inside.AsSpan((y - y0) * insideWidth * Channels, insideWidth * Channels);
                for (var x = 0; x < row.Length; x++)
                    row[x] = lut[source[x * Channels + c]];
            }
        }
    }

    // The float each (channel, byte value) becomes: rescale(): uint8 * python float is float64, then .astype(float32);
    // normalize(): (image - mean) / std with float32 arrays, so float32 arithmetic.
    private float[] Table => _table ??= BuildTable();
    private float[]? _table;

    private float[] BuildTable()
    {
        var table = new float[Channels * 256];
        for (var c = 0; c < Channels; c++)
        {
            var mean = Config.ImageMean[c];
            var std = Config.ImageStd[c];
            for (var v = 0; v < 256; v++)
            {
                var x = Config.DoRescale ? (float)(v * Config.RescaleFactor) : v;
                table[c * 256 + v] = Config.DoNormalize ? (x - mean) / std : x;
            }
        }
        return table;
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

    // transformers' center_crop: the window starts at top = (h - crop_h) // 2, left = (w - crop_w) // 2 (floor
    // division). Where the image is smaller than the crop, transformers pastes it on a zero canvas at
    // ceil((crop - size) / 2) and takes the whole canvas: in image coordinates that is the same floor formula
    // (negative), with zeros outside the image.
    // Python's // rounds toward negative infinity; C#'s / toward zero.
    private static int FloorDiv(int a, int b) => (int)Math.Floor((double)a / b);
}
