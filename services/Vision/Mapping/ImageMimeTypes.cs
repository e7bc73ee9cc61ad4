namespace MultiModal.Vision.Mapping;

/// <summary>The media type of encoded image bytes, from their signature (the client's mime_type is only informational).</summary>
public static class ImageMimeTypes
{
    /// <summary>"image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp", or "application/octet-stream".</summary>
    public static string Sniff(ReadOnlySpan<byte> data) => data switch
    {
        [0x89, (byte)'P', (byte)'N', (byte)'G', ..] => "image/png",
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "image/webp",
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', ..] => "image/gif",
        [(byte)'B', (byte)'M', ..] => "image/bmp",
        _ => "application/octet-stream",
    };
}
