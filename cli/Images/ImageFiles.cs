using Google.Protobuf;
using MultiModal.Cli.Errors;
using MultiModal.Contracts.Common.V1;

namespace MultiModal.Cli.Images;

/// <summary>Image files on disk as the wire's <c>Image</c> (the services decode and check them).</summary>
internal static class ImageFiles
{
    private static readonly Dictionary<string, string> MimeTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".png"] = "image/png", [".jpg"] = "image/jpeg", [".jpeg"] = "image/jpeg", [".webp"] = "image/webp",
        [".bmp"] = "image/bmp", [".gif"] = "image/gif",
    };

    /// <summary>Whether <paramref name="argument"/> names an existing file with an image extension (rank's text-or-image rule).</summary>
    public static bool IsImagePath(string argument) =>
        MimeTypes.ContainsKey(Path.GetExtension(argument)) && File.Exists(argument);

    /// <exception cref="CliInputException">The file is missing or unreadable.</exception>
    public static async Task<Image> ReadAsync(string path, CancellationToken cancellationToken)
    {
        byte[] data;
        try
        {
            data = await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliInputException($"cannot read image '{path}': {ex.Message}");
        }
        var image = new Image { Data = ByteString.CopyFrom(data) };
        if (MimeTypes.TryGetValue(Path.GetExtension(path), out var mime))
            image.MimeType = mime;
        return image;
    }
}
