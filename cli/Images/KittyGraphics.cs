using System.Text;

namespace MultiModal.Cli.Images;

/// <summary>
/// The kitty graphics protocol: transmit-and-display (<c>a=T</c>) of raw RGBA (<c>f=32</c>), base64 in chunks of at
/// most 4096 bytes (<c>m=1</c> while more follow), each chunk an APC sequence <c>ESC _ G … ESC \</c>.
/// </summary>
internal static class KittyGraphics
{
    private const int ChunkSize = 4096;

    public static string Encode(ReadOnlySpan<byte> rgba, int width, int height)
    {
        var payload = Convert.ToBase64String(rgba);
        var sequence = new StringBuilder();
        for (var offset = 0; offset < payload.Length; offset += ChunkSize)
        {
            var chunk = payload.AsSpan(offset, Math.Min(ChunkSize, payload.Length - offset));
            var more = offset + ChunkSize < payload.Length ? 1 : 0;
            sequence.Append("\u001b_G");
            if (offset == 0)
                sequence.Append($"a=T,f=32,s={width},v={height},");
            sequence.Append("m=").Append(more).Append(';').Append(chunk).Append("\u001b\\");
        }
        return sequence.Append('\n').ToString();
    }
}
