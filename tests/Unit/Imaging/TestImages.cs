using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace MultiModal.Tests.Unit.Imaging;

/// <summary>Hand-built image files with known pixels, written chunk by chunk (independent of the code under test).</summary>
internal static class TestImages
{
    public static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>An 8-bit PNG: colorType 0 = grey (1 byte/pixel), 2 = RGB (3), 6 = RGBA (4); rows unfiltered.</summary>
    public static byte[] Png(int width, int height, int colorType, byte[] pixels)
    {
        var bytesPerPixel = colorType switch { 0 => 1, 2 => 3, 6 => 4, _ => throw new ArgumentOutOfRangeException(nameof(colorType)) };
        var raw = new MemoryStream();
        for (var y = 0; y < height; y++)
        {
            raw.WriteByte(0); // filter type None
            raw.Write(pixels, y * width * bytesPerPixel, width * bytesPerPixel);
        }
        return PngFile(width, height, colorType, Deflate(raw.ToArray()));
    }

    /// <summary>A PNG whose IHDR claims <paramref name="width"/>×<paramref name="height"/> but whose IDAT holds one row.</summary>
    public static byte[] PngHeaderOnly(int width, int height) => PngFile(width, height, 2, Deflate(new byte[16]));

    public static byte[] Chunk(string type, ReadOnlySpan<byte> data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        Encoding.ASCII.GetBytes(type, chunk.AsSpan(4, 4));
        data.CopyTo(chunk.AsSpan(8));
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    /// <summary>Bitwise CRC-32 (polynomial 0xEDB88320), deliberately not table-driven like the production one.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>
    /// A 1×1 GIF89a with two frames: frame 0 is palette index 0 (red), frame 1 index 1 (blue).
    /// LZW (min code size 2): clear (4), index, end (5) as 3-bit codes, LSB first.
    /// </summary>
    public static byte[] TwoFrameGif() =>
    [
        .. "GIF89a"u8, 1, 0, 1, 0, 0x80, 0, 0,    // 1x1 screen, global colour table of 2 entries
        0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF,        // palette: red, blue
        0x21, 0xF9, 4, 0x04, 10, 0, 0, 0,          // graphic control: dispose "none", 100 ms
        0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, // frame 0: index 0
        0x21, 0xF9, 4, 0x04, 10, 0, 0, 0,
        0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x4C, 0x01, 0, // frame 1: index 1
        0x3B,
    ];

    /// <summary>An 8×8 WBMP (wireless bitmap, type 0): a format Skia decodes but the services do not accept.</summary>
    public static byte[] Wbmp8x8() => [0, 0, 8, 8, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00];

    private static byte[] PngFile(int width, int height, int colorType, byte[] idat)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = (byte)colorType;
        return [.. PngSignature, .. Chunk("IHDR", ihdr), .. Chunk("IDAT", idat), .. Chunk("IEND", [])];
    }

    private static byte[] Deflate(byte[] data)
    {
        var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true))
            zlib.Write(data);
        return output.ToArray();
    }
}
