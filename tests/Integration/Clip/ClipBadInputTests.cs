using System.IO.Hashing;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Contracts.Common.V1;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Clip;

/// <summary>Every bad input gets a clear status naming the field, and the service keeps serving afterwards.</summary>
public sealed class ClipBadInputTests(ClipFleetFixture fleet) : IClassFixture<ClipFleetFixture>
{
    [Fact]
    public async Task EmbedTexts_EmptyRequest_InvalidArgumentNamingTexts() =>
        await AssertRejectedAsync(fleet.Client.EmbedTextsAsync(new EmbedTextsRequest()), "texts", "INVALID_INPUT");

    [Fact]
    public async Task EmbedImages_EmptyRequest_InvalidArgumentNamingImages() =>
        await AssertRejectedAsync(fleet.Client.EmbedImagesAsync(new EmbedImagesRequest()), "images", "INVALID_INPUT");

    [Fact]
    public async Task EmbedImages_CorruptBytes_InvalidArgumentUnsupportedFormat()
    {
        var garbage = new byte[4096];
        new Random(7).NextBytes(garbage);

        await AssertRejectedAsync(EmbedOne(garbage), "images[0].data", "UNSUPPORTED_IMAGE_FORMAT");
    }

    [Fact]
    public async Task EmbedImages_TruncatedPng_InvalidArgument()
    {
        var png = File.ReadAllBytes(TestPaths.Fixture("tiny-clip", "images", "gradient_shapes_300x200.png"));

        var status = await AssertRejectedAsync(EmbedOne(png[..(png.Length / 2)]), "images[0].data", reason: null);
        Assert.Contains("truncated", status.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task EmbedImages_PngHeaderClaiming30000Squared_RejectedAsTooLargeBeforeDecoding()
    {
        var status = await AssertRejectedAsync(EmbedOne(PngHeader(30000, 30000)), "images[0].data", "IMAGE_TOO_LARGE");
        Assert.Contains("30000", status.Message);
    }

    [Fact]
    public async Task EmbedImages_UnknownFormat_InvalidArgumentUnsupportedFormat() =>
        await AssertRejectedAsync(EmbedOne("%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n"u8.ToArray()), "images[0].data", "UNSUPPORTED_IMAGE_FORMAT");

    [Fact]
    public async Task Classify_TenThousandLabels_InvalidArgumentNamingLabels()
    {
        var request = new ClassifyRequest { Image = ClipThroughGatewayTests.LoadImage("rgba_checker_96x96.png") };
        request.Labels.AddRange(Enumerable.Range(0, 10_000).Select(i => $"label {i}"));

        await AssertRejectedAsync(fleet.Client.ClassifyAsync(request), "labels", "INVALID_INPUT");
    }

    [Fact]
    public async Task EmbedTexts_HundredThousandCharacterText_InvalidArgumentNamingText() =>
        await AssertRejectedAsync(fleet.Client.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "ok", new string('a', 100_000) } }),
            "texts[1]", "INVALID_INPUT");

    [Fact]
    public async Task EmbedImages_FiftyMegabyteMessage_RejectedAsTooLarge()
    {
        var big = new byte[50 << 20];
        new Random(3).NextBytes(big);

        var status = await AssertRejectedAsync(EmbedOne(big), "images[0].data", "IMAGE_TOO_LARGE");
        Assert.Contains("bytes", status.Message);
    }

    [Fact]
    public async Task EmbedImages_MessageOverGrpcLimit_ResourceExhausted()
    {
        var call = fleet.Client.EmbedImagesAsync(new EmbedImagesRequest { Images = { new Image { Data = ByteString.CopyFrom(new byte[70 << 20]) } } });

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Classify_TemplateWithoutPlaceholder_InvalidArgumentNamingTemplate() =>
        await AssertRejectedAsync(fleet.Client.ClassifyAsync(new ClassifyRequest
        {
            Image = ClipThroughGatewayTests.LoadImage("rgba_checker_96x96.png"), Labels = { "cat" }, Template = "a photo",
        }), "template", "INVALID_INPUT");

    [Fact]
    public async Task Rank_MissingQuery_InvalidArgumentNamingQuery() =>
        await AssertRejectedAsync(fleet.Client.RankAsync(new RankRequest { Candidates = { new RankItem { Text = "x" } } }), "query", "INVALID_INPUT");

    private AsyncUnaryCall<EmbedImagesResponse> EmbedOne(byte[] data) =>
        fleet.Client.EmbedImagesAsync(new EmbedImagesRequest { Images = { new Image { Data = ByteString.CopyFrom(data) } } });

    private async Task<Google.Rpc.Status> AssertRejectedAsync<T>(AsyncUnaryCall<T> call, string field, string? reason)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.DefaultTimeout());

        Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"expected INVALID_ARGUMENT, got {error.Status}");
        var status = error.GetRpcStatus() ?? throw new Xunit.Sdk.XunitException("no google.rpc.Status details: " + error.Status.Detail);
        var info = status.GetDetail<ErrorInfo>();
        Assert.Equal("multimodal", info.Domain);
        if (reason is not null)
            Assert.Equal(reason, info.Reason);
        Assert.Contains(status.GetDetail<BadRequest>().FieldViolations, v => v.Field == field);
        Assert.False(string.IsNullOrWhiteSpace(status.Message));
        await AssertStillServingAsync();
        return status;
    }

    private async Task AssertStillServingAsync()
    {
        var ok = await fleet.Client.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "still here" } }).ResponseAsync.DefaultTimeout();
        Assert.Single(ok.Embeddings);
    }

    // A PNG signature and a valid IHDR (with its CRC) claiming the given size, then IEND: no pixel data at all.
    private static byte[] PngHeader(int width, int height)
    {
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(png, "IHDR", ihdr);
        WriteChunk(png, "IDAT", Deflate(new byte[64])); // a few rows' worth: the rest is "missing", as in a decompression bomb
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static byte[] Deflate(byte[] raw)
    {
        using var buffer = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(buffer, System.IO.Compression.CompressionLevel.Optimal))
            zlib.Write(raw);
        return buffer.ToArray();
    }

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        Span<byte> crc = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.HashToUInt32(typed));
        png.Write(crc);
    }
}
