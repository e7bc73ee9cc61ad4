using MultiModal.Gateway.OpenAi.Errors;

namespace MultiModal.Gateway.OpenAi.ImageFetch;

/// <summary><c>data:image/png;base64,...</c> → bytes. PNG, JPEG, WebP, GIF and BMP; base64 only.</summary>
public static class DataUrl
{
    private static readonly HashSet<string> ImageTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "image/png", "image/jpeg", "image/jpg", "image/webp", "image/gif", "image/bmp", "image/x-ms-bmp",
    };

    public static bool IsDataUrl(string url) => url.StartsWith("data:", StringComparison.OrdinalIgnoreCase);

    public static (byte[] Data, string MediaType) Decode(string url, string param, long maxBytes)
    {
        var comma = url.IndexOf(',');
        if (comma < 0)
            throw OpenAiException.Invalid(param, "The data: URL has no ',' before its data.", "invalid_image_url");
        var header = url[5..comma];
        var parts = header.Split(';');
        var mediaType = parts[0].Trim();
        if (!parts.Skip(1).Any(p => p.Trim().Equals("base64", StringComparison.OrdinalIgnoreCase)))
            throw OpenAiException.Invalid(param, "Only base64 data: URLs are accepted (data:image/png;base64,...).", "invalid_image_url");
        if (!ImageTypes.Contains(mediaType))
            throw OpenAiException.Invalid(param, $"The data: URL's media type '{mediaType}' is not one of image/png, image/jpeg, image/webp, image/gif, image/bmp.", "invalid_image_format");
        var payload = url.AsSpan(comma + 1).Trim();
        if ((long)payload.Length / 4 * 3 > maxBytes + 3)
            throw OpenAiException.Invalid(param, $"The image is larger than the gateway's limit of {maxBytes} bytes.", "image_too_large");
        var bytes = new byte[payload.Length / 4 * 3 + 3];
        if (!Convert.TryFromBase64Chars(payload, bytes, out var written))
            throw OpenAiException.Invalid(param, "The data: URL's data is not valid base64.", "invalid_image_url");
        return (bytes[..written], mediaType.ToLowerInvariant());
    }
}
