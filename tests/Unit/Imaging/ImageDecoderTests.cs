using System.Diagnostics;
using MultiModal.Models.Errors;
using MultiModal.Models.Imaging;
using MultiModal.Tests.Testing;
using SkiaSharp;
using Xunit;

namespace MultiModal.Tests.Unit.Imaging;

public sealed class ImageDecoderTests
{
    private static InputRejectedException Rejected(byte[] data, ImageLimits? limits = null) =>
        Assert.Throws<InputRejectedException>(() => ImageDecoder.Decode(data, limits ?? ImageLimits.Default));

    private static byte[] Fixture(string name) => File.ReadAllBytes(TestPaths.Fixture("tiny-clip", "images", name));

    [Fact]
    public void Decode_EmptyBytes_RejectedAsInvalid()
    {
        var e = Rejected([]);
        Assert.Equal(InputRejection.Invalid, e.Kind);
        Assert.Equal("image is empty", e.Message);
    }

    [Fact]
    public void Decode_RandomBytes_RejectedAsUnsupportedFormat()
    {
        var data = new byte[1000];
        new Random(42).NextBytes(data);

        var e = Rejected(data);

        Assert.Equal(InputRejection.UnsupportedImageFormat, e.Kind);
        Assert.Equal("image data is not a PNG/JPEG/WebP/BMP/GIF image", e.Message);
    }

    [Fact]
    public void Decode_PngCutInHalf_RejectedAsTruncated()
    {
        var png = Fixture("gradient_shapes_300x200.png");

        var e = Rejected(png[..(png.Length / 2)]);

        Assert.Equal(InputRejection.UnsupportedImageFormat, e.Kind);
        Assert.Equal("image data is truncated or corrupt", e.Message);
    }

    [Fact]
    public void Decode_HeaderClaims30000x30000_RejectedAsTooLargeWithoutDecoding()
    {
        var png = TestImages.PngHeaderOnly(30000, 30000);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var e = Rejected(png);

        Assert.Equal(InputRejection.ImageTooLarge, e.Kind);
        Assert.Equal("image is 30000x30000 = 900000000 pixels; the limit is 40000000 pixels", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore < (1 << 20), "allocated a pixel buffer");
    }

    [Fact]
    public void Decode_OverPixelLimitButDecodable_RejectedBeforeAllocatingPixels()
    {
        // 6000x6000 would need a 144 MB RGBA buffer if the limit were checked after decoding.
        var png = TestImages.PngHeaderOnly(6000, 6000);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var e = Rejected(png, new ImageLimits { MaxPixels = 1_000_000 });

        Assert.Equal(InputRejection.ImageTooLarge, e.Kind);
        Assert.Equal("image is 6000x6000 = 36000000 pixels; the limit is 1000000 pixels", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore < (1 << 20), "allocated a pixel buffer");
    }

    [Fact]
    public void Decode_OverByteLimit_RejectedAsTooLarge()
    {
        var png = Fixture("rgba_checker_96x96.png"); // 611 bytes

        var e = Rejected(png, new ImageLimits { MaxBytes = 600 });

        Assert.Equal(InputRejection.ImageTooLarge, e.Kind);
        Assert.Equal("image is 611 bytes; the limit is 600 bytes", e.Message);
    }

    [Fact]
    public void Decode_WbmpImage_RejectedNamingTheFormat()
    {
        var e = Rejected(TestImages.Wbmp8x8());

        Assert.Equal(InputRejection.UnsupportedImageFormat, e.Kind);
        Assert.Equal("image format WBMP is not accepted; send a PNG/JPEG/WebP/BMP/GIF image", e.Message);
    }

    [Fact]
    public void Decode_JpegWhenOnlyPngAllowed_RejectedNamingTheFormat()
    {
        var limits = new ImageLimits { AllowedFormats = new HashSet<SKEncodedImageFormat> { SKEncodedImageFormat.Png } };

        var e = Rejected(Fixture("gray_rings_128x160.jpg"), limits);

        Assert.Equal(InputRejection.UnsupportedImageFormat, e.Kind);
        Assert.Equal("image format JPEG is not accepted; send a PNG image", e.Message);
    }

    [Fact]
    public void Decode_RgbaPng_DropsAlphaAndKeepsColourOfTransparentPixels()
    {
        // (R, G, B, A): opaque red, half-transparent green, fully transparent (10, 200, 30), transparent black.
        byte[] rgba = [255, 0, 0, 255, 0, 255, 0, 128, 10, 200, 30, 0, 0, 0, 0, 0];

        var image = ImageDecoder.Decode(TestImages.Png(2, 2, colorType: 6, rgba), ImageLimits.Default);

        Assert.Equal((2, 2), (image.Width, image.Height));
        Assert.Equal(new byte[] { 255, 0, 0, 0, 255, 0, 10, 200, 30, 0, 0, 0 }, image.Rgb);
    }

    [Fact]
    public void Decode_GreyPng_ReplicatesGreyIntoRgb()
    {
        byte[] grey = [0, 1, 127, 128, 254, 255];

        var image = ImageDecoder.Decode(TestImages.Png(3, 2, colorType: 0, grey), ImageLimits.Default);

        Assert.Equal((3, 2), (image.Width, image.Height));
        Assert.Equal(grey.SelectMany(g => new[] { g, g, g }).ToArray(), image.Rgb);
    }

    [Fact]
    public void Decode_GreyJpeg_GivesEqualChannels()
    {
        var image = ImageDecoder.Decode(Fixture("gray_rings_128x160.jpg"), ImageLimits.Default);

        Assert.Equal((128, 160), (image.Width, image.Height));
        for (var i = 0; i < image.Rgb.Length; i += 3)
            Assert.True(image.Rgb[i] == image.Rgb[i + 1] && image.Rgb[i] == image.Rgb[i + 2], $"pixel {i / 3} is not grey");
        Assert.True(image.Rgb.Distinct().Count() > 50, "expected the rings' range of greys");
    }

    [Fact]
    public void Decode_RgbPng_ReturnsExactPixels()
    {
        byte[] rgb = [1, 2, 3, 4, 5, 6, 250, 251, 252];

        var image = ImageDecoder.Decode(TestImages.Png(3, 1, colorType: 2, rgb), ImageLimits.Default);

        Assert.Equal(rgb, image.Rgb);
        Assert.Equal((4, 5, 6), ((int, int, int))image[1, 0]);
    }

    [Fact]
    public void Decode_AnimatedGif_ReturnsFirstFrame()
    {
        var image = ImageDecoder.Decode(TestImages.TwoFrameGif(), ImageLimits.Default);

        Assert.Equal((1, 1), (image.Width, image.Height));
        Assert.Equal(new byte[] { 255, 0, 0 }, image.Rgb); // frame 0 is red, frame 1 blue
    }
}
