using MultiModal.Models.Clip;
using MultiModal.Models.Imaging;
using MultiModal.Tests.Testing;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Clip;

/// <summary>
/// Our decode + PIL-port resize + crop + normalise against transformers' CLIPImageProcessor on the same files
/// (golden <c>images_pixel_values</c>, tiny-clip/README.md "Images and the preprocessing pipeline").
/// </summary>
public sealed class ClipImageProcessorGoldenTests(ITestOutputHelper output)
{
    private static readonly string[] Images =
        ["gradient_shapes_300x200.png", "gray_rings_128x160.jpg", "rgba_checker_96x96.png"];

    private static readonly ClipImageProcessor Processor =
        ClipImageProcessor.FromFolder(TestPaths.Fixture("tiny-clip", "model"));

    private static DecodedImage Load(string name) =>
        ImageDecoder.Decode(File.ReadAllBytes(TestPaths.Fixture("tiny-clip", "images", name)), ImageLimits.Default);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Preprocess_FixtureImage_MatchesTransformersPixelValues(int index)
    {
        using var scope = NewDisposeScope();
        var expected = new GoldenTensors(TestPaths.Fixture("tiny-clip", "golden.safetensors"))["images_pixel_values"][index];
        var actual = tensor(Processor.Preprocess(Load(Images[index])), [3, 32, 32]);

        var diff = (actual - expected).abs();
        var (max, mean) = (diff.max().item<float>(), diff.mean().item<float>());
        output.WriteLine($"{Images[index]}: max abs {max:G6}, mean abs {mean:G6}, " +
                         $"{(diff > 1e-6f).sum().item<long>()} of {diff.numel()} values differ");
        // README end-to-end tolerance (JPEG decoders may differ by 1-2 grey levels).
        BoundLog.AtMost($"{Images[index]} pixel_values mean abs", mean, 0.005);
        BoundLog.AtMost($"{Images[index]} pixel_values max abs", max, 0.5);
        Assert.True(mean <= 0.005f, $"{Images[index]}: mean abs diff {mean}");
        Assert.True(max <= 0.5f, $"{Images[index]}: max abs diff {max}");
        // PNG decoding is lossless and the resize is a bit-exact port, so PNGs must match exactly. (This also catches
        // a near miss such as torch's a = -0.75 cubic, which stays inside the loose tolerance above on max.)
        if (Images[index].EndsWith(".png"))
            Assert.True(max == 0f, $"{Images[index]}: expected bit-exact pixel_values, max abs diff {max}");
    }

    [Fact]
    public void PreprocessBatch_FixtureImages_StacksInOrderAsNchwFloat32()
    {
        using var scope = NewDisposeScope();
        var expected = new GoldenTensors(TestPaths.Fixture("tiny-clip", "golden.safetensors"))["images_pixel_values"];

        var batch = Processor.PreprocessBatch(Images.Select(Load).ToList());

        Assert.Equal(ScalarType.Float32, batch.dtype);
        Assert.Equal(new long[] { 3, 3, 32, 32 }, batch.shape);
        Assert.Equal(TorchSharp.DeviceType.CPU, batch.device_type);
        TensorAssert.Close(expected, batch, atol: 0.5, rtol: 0, what: "images_pixel_values");
        Assert.True((batch - expected).abs().mean().item<float>() <= 0.005f);
    }
}
