using SkiaSharp;

namespace MultiModal.Cli.Images;

/// <summary>The terminal graphics protocols <c>mm generate</c> can show previews with.</summary>
internal enum InlineProtocol
{
    None,
    Kitty,
    Sixel,
}

/// <summary>
/// Inline images on stderr, only where the terminal says it can show them. Detection reads what terminals announce
/// in the environment: kitty (<c>KITTY_WINDOW_ID</c>, <c>TERM=xterm-kitty</c>, Ghostty), sixel (<c>TERM</c> naming
/// foot, mlterm, contour or "sixel"; WezTerm); inside tmux or screen nothing (they would need passthrough), and
/// nothing when stderr is not a terminal. <c>MM_INLINE_IMAGES=kitty|sixel|none</c> overrides the detection.
/// </summary>
internal static class InlineImages
{
    public const string OverrideVariable = "MM_INLINE_IMAGES";

    public static InlineProtocol Detect(Func<string, string?> environment, bool stderrIsTerminal)
    {
        switch (environment(OverrideVariable)?.ToLowerInvariant())
        {
            case "kitty": return InlineProtocol.Kitty;
            case "sixel": return InlineProtocol.Sixel;
            case "none": return InlineProtocol.None;
        }
        if (!stderrIsTerminal || environment("TMUX") is not null || environment("STY") is not null)
            return InlineProtocol.None;
        var term = environment("TERM") ?? "";
        var program = environment("TERM_PROGRAM") ?? "";
        if (environment("KITTY_WINDOW_ID") is not null || term == "xterm-kitty" || term == "xterm-ghostty" || program == "ghostty")
            return InlineProtocol.Kitty;
        if (term.Contains("sixel", StringComparison.Ordinal) || term.StartsWith("foot", StringComparison.Ordinal)
            || term.StartsWith("mlterm", StringComparison.Ordinal) || term.StartsWith("contour", StringComparison.Ordinal)
            || program is "WezTerm" or "mlterm" or "contour")
            return InlineProtocol.Sixel;
        return InlineProtocol.None;
    }

    /// <summary>The escape sequence showing an encoded image (PNG/JPEG/...) at its size; null if it does not decode.</summary>
    public static string? Encode(InlineProtocol protocol, ReadOnlySpan<byte> encoded)
    {
        if (protocol == InlineProtocol.None)
            return null;
        try
        {
            return EncodePixels(protocol, encoded);
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException)
        {
            return null;   // a platform the tool package carries no SkiaSharp native for: no inline previews
        }
    }

    private static string? EncodePixels(InlineProtocol protocol, ReadOnlySpan<byte> encoded)
    {
        using var bitmap = SKBitmap.Decode(encoded);
        if (bitmap is null)
            return null;
        using var rgba = bitmap.Copy(SKColorType.Rgba8888);
        var pixels = rgba.GetPixelSpan();
        return protocol == InlineProtocol.Kitty
            ? KittyGraphics.Encode(pixels, rgba.Width, rgba.Height)
            : Sixel.Encode(pixels, rgba.Width, rgba.Height);
    }
}
