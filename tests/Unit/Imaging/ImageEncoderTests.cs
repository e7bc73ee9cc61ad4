using System.Buffers.Binary;
using MultiModal.Models.Imaging;
using Xunit;

namespace MultiModal.Tests.Unit.Imaging;

public sealed class ImageEncoderTests
{
    private static DecodedImage Gradient(int width, int height)
    {
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var i = (y * width + x) * 3;
                (rgb[i], rgb[i + 1], rgb[i + 2]) = ((byte)(x * 255 / (width - 1)), (byte)(y * 255 / (height - 1)), 90);
            }
        return new DecodedImage(width, height, rgb);
    }

    [Fact]
    public void EncodePng_RoundTrip_IsLossless()
    {
        var image = Gradient(17, 9);

        var decoded = ImageDecoder.Decode(ImageEncoder.EncodePng(image), ImageLimits.Default);

        Assert.Equal((17, 9), (decoded.Width, decoded.Height));
        Assert.Equal(image.Rgb, decoded.Rgb);
    }

    [Theory]
    [InlineData("jpeg")]
    [InlineData("webp")]
    public void EncodeLossy_RoundTrip_IsClose(string format)
    {
        var image = Gradient(32, 24);
        var bytes = format == "jpeg" ? ImageEncoder.EncodeJpeg(image, 95) : ImageEncoder.EncodeWebp(image, 95);

        var decoded = ImageDecoder.Decode(bytes, ImageLimits.Default);

        Assert.Equal((32, 24), (decoded.Width, decoded.Height));
        var meanAbs = image.Rgb.Zip(decoded.Rgb, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(meanAbs < 3, $"{format}: mean abs difference {meanAbs}");
    }

    [Fact]
    public void EncodePng_WithText_WritesTextChunkAfterIhdrWithValidCrc()
    {
        const string parameters = "a cat, oil painting\nSteps: 20, Sampler: DDIM, CFG scale: 7.5, Seed: 42";

        var png = ImageEncoder.EncodePng(Gradient(4, 4), "parameters", parameters);

        // Signature (8) + IHDR (25), then our chunk: length, "tEXt", keyword NUL text, CRC.
        var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(33));
        Assert.Equal("tEXt"u8.ToArray(), png[37..41]);
        Assert.Equal("parameters\0"u8.ToArray().Concat(System.Text.Encoding.Latin1.GetBytes(parameters)), png[41..(41 + length)]);
        Assert.Equal(TestImages.Crc32(png.AsSpan(37, 4 + length)), BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(41 + length)));
        Assert.Equal(parameters, PngTextChunks.Read(png)["parameters"]);
        Assert.Equal(Gradient(4, 4).Rgb, ImageDecoder.Decode(png, ImageLimits.Default).Rgb); // still a valid PNG
    }

    [Fact]
    public void EncodePng_WithNonLatin1Text_UsesUtf8ItxtChunk()
    {
        const string prompt = "a cat 🐱 in 東京";

        var png = ImageEncoder.EncodePng(Gradient(4, 4), "parameters", prompt);

        Assert.Equal("iTXt"u8.ToArray(), png[37..41]);
        Assert.Equal(prompt, PngTextChunks.Read(png)["parameters"]);
        Assert.Equal(Gradient(4, 4).Rgb, ImageDecoder.Decode(png, ImageLimits.Default).Rgb);
    }

    [Fact]
    public void ReadText_CorruptedChunkCrc_Throws()
    {
        var png = ImageEncoder.EncodePng(Gradient(4, 4), "parameters", "x");
        png[42] ^= 0xFF; // inside the tEXt data

        Assert.Throws<InvalidDataException>(() => PngTextChunks.Read(png));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" leading")]
    [InlineData("double  space")]
    [InlineData("tab\tkey")]
    public void InsertText_InvalidKeyword_Throws(string keyword)
    {
        var png = ImageEncoder.EncodePng(Gradient(2, 2));

        Assert.Throws<ArgumentException>(() => PngTextChunks.Insert(png, keyword, "text"));
    }

    [Fact]
    public void Encode_QualityOutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageEncoder.EncodeJpeg(Gradient(2, 2), 101));
    }
}
