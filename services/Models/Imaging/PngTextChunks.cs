using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace MultiModal.Models.Imaging;

/// <summary>
/// Adds and reads PNG text metadata (e.g. the "parameters" key image generators use for the prompt and settings).
/// Skia's encoder writes no text chunks, so they are spliced in after IHDR. Like PIL's <c>PngInfo.add_text</c>, a
/// value that Latin-1 can hold goes in a tEXt chunk and anything else in an uncompressed UTF-8 iTXt chunk.
/// </summary>
public static class PngTextChunks
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly Encoding Latin1 = Encoding.Latin1;
    private const int IhdrChunkEnd = 8 + 4 + 4 + 13 + 4; // signature, then IHDR's length, type, 13 data bytes, CRC
    private const int MaxTextBytes = 1 << 20;

    /// <summary>Returns a copy of <paramref name="png"/> with a text chunk (keyword → text) right after IHDR.</summary>
    /// <exception cref="ArgumentException">The keyword is not 1-79 printable Latin-1 characters, or the text holds NUL.</exception>
    /// <exception cref="InvalidDataException"><paramref name="png"/> does not start with a PNG signature and IHDR.</exception>
    public static byte[] Insert(ReadOnlySpan<byte> png, string keyword, string text)
    {
        ValidateKeyword(keyword);
        ArgumentNullException.ThrowIfNull(text);
        if (text.Contains('\0'))
            throw new ArgumentException("PNG text must not contain NUL characters", nameof(text));
        if (png.Length < IhdrChunkEnd || !png[..8].SequenceEqual(Signature)
            || BinaryPrimitives.ReadUInt32BigEndian(png[8..]) != 13 || !png.Slice(12, 4).SequenceEqual("IHDR"u8))
            throw new InvalidDataException("not a PNG: expected the signature followed by IHDR");

        var chunk = IsLatin1(text)
            ? MakeChunk("tEXt", [.. Latin1.GetBytes(keyword), 0, .. Latin1.GetBytes(text)])
            // keyword NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL, UTF-8 text
            : MakeChunk("iTXt", [.. Latin1.GetBytes(keyword), 0, 0, 0, 0, 0, .. Encoding.UTF8.GetBytes(text)]);
        return [.. png[..IhdrChunkEnd], .. chunk, .. png[IhdrChunkEnd..]];
    }

    /// <summary>The tEXt, zTXt and iTXt entries of a PNG in file order (later duplicates win), CRCs checked.</summary>
    /// <exception cref="InvalidDataException">
    /// Not a PNG, a chunk runs past the end, a CRC does not match, a text chunk is malformed, or compressed text
    /// inflates to more than 1 MiB.
    /// </exception>
    public static IReadOnlyDictionary<string, string> Read(ReadOnlySpan<byte> png)
    {
        if (png.Length < 8 || !png[..8].SequenceEqual(Signature))
            throw new InvalidDataException("not a PNG: bad signature");
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var at = 8; at + 12 <= png.Length;)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(png[at..]);
            if (length > png.Length - at - 12)
                throw new InvalidDataException($"PNG chunk at byte {at} runs past the end of the file");
            var typeAndData = png.Slice(at + 4, 4 + (int)length);
            var type = Latin1.GetString(typeAndData[..4]);
            var data = typeAndData[4..];
            var storedCrc = BinaryPrimitives.ReadUInt32BigEndian(png[(at + 8 + (int)length)..]);
            if (Crc32.Compute(typeAndData) != storedCrc)
                throw new InvalidDataException($"PNG chunk {type} at byte {at} has a bad CRC");
            if (ParseText(type, data) is { } entry)
                entries[entry.Key] = entry.Value;
            if (type == "IEND")
                break;
            at += 12 + (int)length;
        }
        return entries;
    }

    // PNG spec 11.3.4: tEXt = keyword NUL text; zTXt = keyword NUL method zlib-data; iTXt = keyword NUL flag method
    // language NUL translated-keyword NUL text (zlib-compressed when the flag is 1). Method 0 (deflate) is the only one.
    private static KeyValuePair<string, string>? ParseText(string type, ReadOnlySpan<byte> data)
    {
        if (type is not ("tEXt" or "zTXt" or "iTXt"))
            return null;
        InvalidDataException Bad(string what) => new($"PNG {type} chunk {what}");
        var nul = data.IndexOf((byte)0);
        if (nul <= 0)
            throw Bad("has no keyword");
        var keyword = Latin1.GetString(data[..nul]);
        var rest = data[(nul + 1)..];
        switch (type)
        {
            case "tEXt":
                return new(keyword, Latin1.GetString(rest));
            case "zTXt":
                if (rest.Length < 1 || rest[0] != 0)
                    throw Bad("has no compression method 0");
                return new(keyword, Latin1.GetString(Inflate(rest[1..], type)));
            default:
                if (rest.Length < 2 || rest[0] > 1 || rest[1] != 0)
                    throw Bad("has no compression flag 0 or 1 followed by method 0");
                var compressed = rest[0] == 1;
                rest = rest[2..];
                for (var field = 0; field < 2; field++) // language tag, translated keyword
                {
                    var end = rest.IndexOf((byte)0);
                    if (end < 0)
                        throw Bad("ends inside its language tag or translated keyword");
                    rest = rest[(end + 1)..];
                }
                return new(keyword, Encoding.UTF8.GetString(compressed ? Inflate(rest, type) : rest));
        }
    }

    // zlib data of a text chunk, at most MaxTextBytes once inflated (PIL's MAX_TEXT_CHUNK): a tiny chunk must not
    // expand into gigabytes.
    private static byte[] Inflate(ReadOnlySpan<byte> zlib, string type)
    {
        using var input = new MemoryStream(zlib.ToArray());
        using var inflater = new ZLibStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        var buffer = new byte[81920];
        var tooLarge = false;
        try
        {
            for (int read; !tooLarge && (read = inflater.Read(buffer)) > 0;)
            {
                tooLarge = output.Length + read > MaxTextBytes;
                if (!tooLarge)
                    output.Write(buffer, 0, read);
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException) // a bad header or block; ZLibException for others
        {
            throw new InvalidDataException($"PNG {type} chunk holds corrupt zlib data ({e.Message})", e);
        }
        if (tooLarge)
            throw new InvalidDataException($"PNG {type} chunk inflates to more than 1 MiB of text");
        return output.ToArray();
    }

    private static byte[] MakeChunk(string type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        Latin1.GetBytes(type, chunk.AsSpan(4, 4));
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32.Compute(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    private static bool IsLatin1(string s) => s.All(c => c <= '\u00FF');

    // PNG spec 11.3.4.3: 1-79 bytes of printable Latin-1 (32-126, 161-255), no leading, trailing or double spaces.
    private static void ValidateKeyword(string keyword)
    {
        ArgumentNullException.ThrowIfNull(keyword);
        var ok = keyword.Length is >= 1 and <= 79
            && keyword.All(c => c is >= ' ' and <= '~' or >= '\u00A1' and <= '\u00FF')
            && !keyword.StartsWith(' ') && !keyword.EndsWith(' ') && !keyword.Contains("  ");
        if (!ok)
            throw new ArgumentException($"'{keyword}' is not a valid PNG text keyword (1-79 printable Latin-1 characters)", nameof(keyword));
    }
}
