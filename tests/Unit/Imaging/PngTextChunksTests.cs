using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using MultiModal.Models.Imaging;
using Xunit;

namespace MultiModal.Tests.Unit.Imaging;

/// <summary>
/// <see cref="PngTextChunks.Read"/> on malformed text chunks with valid CRCs: an <see cref="InvalidDataException"/>
/// naming the chunk, never an index exception (found by the png-text fuzz target, tests/Fuzz/crashes/png-text), and
/// compressed text bounded like PIL's MAX_TEXT_CHUNK.
/// </summary>
public sealed class PngTextChunksTests
{
    private static readonly byte[] Png = ImageEncoder.EncodePng(new DecodedImage(1, 1, [1, 2, 3]));

    public static TheoryData<string, byte[]> MalformedChunks => new()
    {
        { "zTXt", [.. "k"u8, 0] },                              // no compression method byte
        { "iTXt", [.. "k"u8, 0] },                              // no compression flag
        { "iTXt", [.. "k"u8, 0, 0] },                           // no compression method
        { "iTXt", [.. "k"u8, 0, 0, 0, .. "en"u8] },             // language tag without its NUL
        { "iTXt", [.. "k"u8, 0, 0, 0, 0, .. "kk"u8] },          // translated keyword without its NUL
        { "iTXt", [.. "k"u8, 0, 2, 0, 0, 0, .. "x"u8] },        // compression flag neither 0 nor 1
        { "zTXt", [.. "k"u8, 0, 1, .. Deflate("x"u8)] },        // compression method other than 0 (deflate)
        { "zTXt", [.. "k"u8, 0, 0, 1, 2, 3] },                  // not zlib data
        { "zTXt", [.. "k"u8, 0, 0, .. Convert.FromHexString("78200000002d284a2d2e4e4d5148cecfcd4dcd2b010045920749")] }, // preset dictionary: ZLibException
    };

    [Theory]
    [MemberData(nameof(MalformedChunks))]
    public void Read_MalformedTextChunk_ThrowsInvalidDataException(string type, byte[] data)
    {
        var e = Assert.Throws<InvalidDataException>(() => PngTextChunks.Read(WithChunk(Png, type, data)));

        Assert.Contains(type, e.Message);
    }

    [Fact]
    public void Read_CompressedTextOverLimit_ThrowsInsteadOfInflating()
    {
        // 2 MiB of text in a ~2 KB chunk: a decompression bomb, refused at 1 MiB like PIL's MAX_TEXT_CHUNK.
        var bomb = WithChunk(Png, "zTXt", [.. "Comment"u8, 0, 0, .. Deflate(new byte[2 << 20])]);

        var e = Assert.Throws<InvalidDataException>(() => PngTextChunks.Read(bomb));

        Assert.Contains("1 MiB", e.Message);
    }

    [Fact]
    public void Read_CompressedTexts_Inflates()
    {
        var png = WithChunk(WithChunk(Png, "zTXt", [.. "Comment"u8, 0, 0, .. Deflate("plain"u8)]),
            "iTXt", [.. "Title"u8, 0, 1, 0, .. "de"u8, 0, .. "Titel"u8, 0, .. Deflate("Grüße"u8)]);

        var entries = PngTextChunks.Read(png);

        Assert.Equal("plain", entries["Comment"]);
        Assert.Equal("Grüße", entries["Title"]);
    }

    private static byte[] Deflate(ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal))
            zlib.Write(data);
        return output.ToArray();
    }

    // The chunk spliced in right after IHDR (signature 8 + IHDR 25 bytes), with its CRC.
    private static byte[] WithChunk(byte[] png, string type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        Encoding.ASCII.GetBytes(type, chunk.AsSpan(4, 4));
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), TestImages.Crc32(chunk.AsSpan(4, 4 + data.Length)));
        return [.. png[..33], .. chunk, .. png[33..]];
    }
}
