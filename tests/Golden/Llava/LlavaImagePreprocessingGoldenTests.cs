using MultiModal.Models.Clip;
using MultiModal.Models.Imaging;
using MultiModal.Tests.Testing;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Llava;

/// <summary>
/// The Vision service's image path for a llava-hf folder (ImageDecoder → ClipImageProcessor from the folder's
/// preprocessor_config.json) against transformers' LlavaProcessor/CLIPImageProcessor on the golden PNGs
/// (tiny-llava-a-golden README "Preprocessing": every intermediate stored). The README's limit is atol 1e-6 when PIL
/// bicubic is reproduced; the resize is a bit-exact PIL port and PNG decoding is lossless, so we require exact equality.
/// </summary>
public sealed class LlavaImagePreprocessingGoldenTests
{
    private static readonly ClipImageProcessor Processor = ClipImageProcessor.FromFolder(TestPaths.Fixture("llava", "tiny-llava-a"));
    private static readonly GoldenTensors Golden = new(TestPaths.Fixture("llava", "tiny-llava-a-golden", "golden.safetensors"));

    private static DecodedImage Load(string name) =>
        ImageDecoder.Decode(File.ReadAllBytes(TestPaths.Fixture("llava", "tiny-llava-a-golden", "images", name + ".png")), ImageLimits.Default);

    [Theory]
    [InlineData("circle_64x48")]
    [InlineData("checker_40x40")]
    [InlineData("shapes_50x80")]
    public void Decode_GoldenPng_EqualsPilConvertRgb(string image)
    {
        using var scope = NewDisposeScope();
        var expected = Golden[$"preprocess.{image}.rgb_uint8"];                                       // (H, W, 3) uint8
        var decoded = Load(image);

        Assert.Equal(expected.shape, new long[] { decoded.Height, decoded.Width, 3 });
        Assert.Equal(expected.data<byte>().ToArray(), decoded.Rgb);
    }

    [Theory]
    [InlineData("circle_64x48")]
    [InlineData("checker_40x40")]
    [InlineData("shapes_50x80")]
    public void Preprocess_GoldenPng_EqualsTransformersPixelValuesExactly(string image)
    {
        using var scope = NewDisposeScope();
        var expected = Golden[$"preprocess.{image}.pixel_values"];                                   // (1, 3, 32, 32)

        var actual = tensor(Processor.Preprocess(Load(image)), [1, 3, 32, 32]);

        TensorAssert.Close(expected, actual, atol: 1e-6, rtol: 0, what: $"{image} pixel_values");
        Assert.Equal(0f, (actual - expected).abs().max().item<float>());
    }

    [Theory]
    [InlineData(0, "circle_64x48")]
    [InlineData(1, "checker_40x40")]
    [InlineData(2, "shapes_50x80")]
    public void Preprocess_GenerationGoldenImage_EqualsThePixelValuesItsGenerationUsed(int generation, string image)
    {
        using var scope = NewDisposeScope();
        var expected = Golden[$"generate.{generation}.pixel_values"];                                // (1, 3, 32, 32)

        var actual = tensor(Processor.Preprocess(Load(image)), [1, 3, 32, 32]);

        Assert.Equal(0f, (actual - expected).abs().max().item<float>());
    }
}
