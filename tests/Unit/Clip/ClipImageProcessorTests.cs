using MultiModal.Models.Clip;
using MultiModal.Models.Imaging;
using Xunit;

namespace MultiModal.Tests.Unit.Clip;

public sealed class ClipImageProcessorTests
{
    // Only resize / crop: values stay the uint8 levels, so positions can be checked exactly.
    private const string RawPixels = """{"do_rescale": false, "do_normalize": false""";

    private static DecodedImage Numbered(int width, int height) =>
        new(width, height, Enumerable.Range(0, width * height).SelectMany(i => new[] { (byte)(i + 1), (byte)(i + 1), (byte)(i + 1) }).ToArray());

    [Fact]
    public void Parse_EmptyObject_UsesTransformersDefaults()
    {
        var config = ClipImageProcessorConfig.Parse("{}");

        Assert.Equal(224, config.ShortestEdge);
        Assert.Equal((224, 224), (config.CropHeight, config.CropWidth));
        Assert.Equal(PilResample.Bicubic, config.Resample);
        Assert.True(config.DoResize && config.DoCenterCrop && config.DoRescale && config.DoNormalize && config.DoConvertRgb);
        Assert.Equal(1 / 255.0, config.RescaleFactor);
        Assert.Equal([0.48145466f, 0.4578275f, 0.40821073f], config.ImageMean);
        Assert.Equal([0.26862954f, 0.26130258f, 0.27577711f], config.ImageStd);
    }

    [Fact]
    public void Parse_LegacyIntSizes_MeanShortestEdgeAndSquareCrop()
    {
        var config = ClipImageProcessorConfig.Parse("""{"size": 336, "crop_size": 336, "resample": 2}""");

        Assert.Equal(336, config.ShortestEdge);
        Assert.Equal((336, 336), (config.CropHeight, config.CropWidth));
        Assert.Equal(PilResample.Bilinear, config.Resample);
    }

    [Fact]
    public void Parse_HeightWidthSize_ResizesExactly()
    {
        var config = ClipImageProcessorConfig.Parse("""{"size": {"height": 20, "width": 30}, "do_center_crop": false}""");
        var processor = new ClipImageProcessor(config);

        Assert.Null(config.ShortestEdge);
        Assert.Equal((20, 30), processor.OutputSize(width: 300, height: 300));
    }

    [Theory]
    [InlineData("""{"resample": 0}""")]
    [InlineData("""{"size": {"longest_edge": 5}}""")]
    [InlineData("""{"image_mean": [0.5, 0.5]}""")]
    [InlineData("""{"image_std": [1, 0, 1]}""")]
    public void Parse_UnsupportedValues_Throw(string json)
    {
        Assert.Throws<InvalidDataException>(() => ClipImageProcessorConfig.Parse(json));
    }

    // get_resize_output_image_size: the short side becomes `size`, the long one int(size * long / short).
    [Theory]
    [InlineData(300, 200, 32, 48)]  // landscape: (height 32, width 48)
    [InlineData(200, 300, 48, 32)]  // portrait
    [InlineData(100, 33, 32, 96)]   // 32 * 100 / 33 = 96.97 truncates to 96
    [InlineData(50, 50, 32, 32)]
    public void OutputSize_WithoutCrop_FollowsShortestEdgeRule(int width, int height, int expectedHeight, int expectedWidth)
    {
        var processor = new ClipImageProcessor(ClipImageProcessorConfig.Parse("""{"size": 32, "do_center_crop": false}"""));

        Assert.Equal((expectedHeight, expectedWidth), processor.OutputSize(width, height));
    }

    [Fact]
    public void Preprocess_LargerThanCrop_TakesCentreWindowFlooringTheOffset()
    {
        var processor = new ClipImageProcessor(ClipImageProcessorConfig.Parse(RawPixels + """, "do_resize": false, "crop_size": 2}"""));

        var output = processor.Preprocess(Numbered(5, 4)); // values 1..20 row-major

        // top = (4 - 2) // 2 = 1, left = (5 - 2) // 2 = 1: rows 1-2, columns 1-2 -> 7, 8, 12, 13 in every channel.
        Assert.Equal(Enumerable.Repeat(new float[] { 7, 8, 12, 13 }, 3).SelectMany(x => x), output);
    }

    [Fact]
    public void Preprocess_SmallerThanCrop_PadsWithZerosLikeTransformers()
    {
        var processor = new ClipImageProcessor(ClipImageProcessorConfig.Parse(RawPixels + """, "do_resize": false, "crop_size": 4}"""));

        var output = processor.Preprocess(Numbered(3, 2)); // 1 2 3 / 4 5 6

        // Height: top = (2 - 4) // 2 = -1 -> image rows at 1..2. Width: left = (3 - 4) // 2 = -1 -> columns 1..3
        // (transformers pads ceil(1 / 2) = 1 on the left).
        float[] plane = [0, 0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0];
        Assert.Equal(plane.Concat(plane).Concat(plane), output);
    }

    [Fact]
    public void Preprocess_RescaleAndNormalise_ComputedInFloat32LikeNumpy()
    {
        var processor = new ClipImageProcessor(ClipImageProcessorConfig.Parse("""{"do_resize": false, "crop_size": 1}"""));

        var output = processor.Preprocess(new DecodedImage(1, 1, [0, 128, 255]));

        float mean0 = 0.48145466f, std0 = 0.26862954f, mean1 = 0.4578275f, std1 = 0.26130258f, mean2 = 0.40821073f, std2 = 0.27577711f;
        Assert.Equal((0f - mean0) / std0, output[0]);
        Assert.Equal(((float)(128 * (1 / 255.0)) - mean1) / std1, output[1]);
        Assert.Equal((1f - mean2) / std2, output[2]);
    }

    [Fact]
    public void PreprocessBatch_DifferentSizesWithoutCrop_Throws()
    {
        var processor = new ClipImageProcessor(ClipImageProcessorConfig.Parse("""{"size": 8, "do_center_crop": false}"""));

        Assert.Throws<ArgumentException>(() => processor.PreprocessBatch([Numbered(8, 8), Numbered(16, 8)]));
    }

    [Fact]
    public void PreprocessBatch_Images_ReturnsNchwTensorInInputOrder()
    {
        var processor = new ClipImageProcessor(ClipImageProcessorConfig.Parse("""{"size": 4, "crop_size": 4}"""));
        DecodedImage[] images = [Numbered(6, 4), Numbered(4, 9)];

        using var batch = processor.PreprocessBatch(images);

        Assert.Equal(new long[] { 2, 3, 4, 4 }, batch.shape);
        Assert.Equal(processor.Preprocess(images[1]), batch[1].data<float>().ToArray());
        Assert.Equal(4, processor.ImageSize);
    }
    [Theory]
    [InlineData(640, 480)]   // landscape: crop cuts columns
    [InlineData(300, 451)]   // portrait: crop cuts rows
    [InlineData(150, 90)]    // upscaled
    [InlineData(224, 224)]   // no resize, no crop
    public void PreprocessInto_RandomImage_EqualsFullResizeThenCropThenPerPixelNormalise(int width, int height)
    {
        // The pre-window algorithm written out: resize the whole image, crop the center, rescale in double, normalise
        // in float32 per pixel. The windowed resize and the lookup table must give the same bits.
        var processor = new ClipImageProcessor(ClipImageProcessorConfig.Parse("{}"));
        var rgb = new byte[width * height * 3];
        new Random(7).NextBytes(rgb);
        var image = new DecodedImage(width, height, rgb);
        var c = processor.Config;
        var (rw, rh) = width <= height ? (224, (int)((double)(224L * height) / width)) : ((int)((double)(224L * width) / height), 224);
        var resized = PilResize.Resize(rgb, width, height, 3, rw, rh, c.Resample);
        int top = (rh - 224) / 2, left = (rw - 224) / 2, plane = 224 * 224;
        var expected = new float[3 * plane];
        for (var ch = 0; ch < 3; ch++)
            for (var y = 0; y < 224; y++)
                for (var x = 0; x < 224; x++)
                {
                    var v = (float)(resized[((y + top) * rw + x + left) * 3 + ch] * c.RescaleFactor);
                    expected[ch * plane + y * 224 + x] = (v - c.ImageMean[ch]) / c.ImageStd[ch];
                }
        var output = new float[3 * plane];
        output.AsSpan().Fill(float.NaN); // every element must be written

        processor.PreprocessInto(image, output);

        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), output.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void PreprocessInto_WrongLength_ThrowsNamingSize()
    {
        var processor = new ClipImageProcessor(ClipImageProcessorConfig.Parse("{}"));

        var e = Assert.Throws<ArgumentException>(() => processor.PreprocessInto(Numbered(8, 8), new float[10]));

        Assert.Contains("3x224x224", e.Message, StringComparison.Ordinal);
    }
}
