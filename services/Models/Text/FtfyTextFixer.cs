using System.Text;
using System.Text.RegularExpressions;

namespace MultiModal.Models.Text;

/// <summary>
/// A port of ftfy 6.1.1's <c>fix_text</c> with its default <c>TextFixerConfig</c> (what openai/CLIP's tokenizer calls):
/// per line, repeat { unescape_html (auto: off from the first line holding '&lt;'), fix_encoding, fix_c1_controls,
/// fix_latin_ligatures, fix_character_width, uncurl_quotes, fix_line_breaks, fix_surrogates, remove_terminal_escapes,
/// remove_control_chars, NFC } until the line stops changing.
/// </summary>
public static partial class FtfyTextFixer
{
    private const int MaxDecodeLength = 1_000_000;

    /// <summary>ftfy <c>fix_text(text)</c>.</summary>
    public static string FixText(string text)
    {
        var unescapeHtml = true;
        var output = new StringBuilder(text.Length);
        var pos = 0;
        while (pos < text.Length)
        {
            var lineEnd = text.IndexOf('\n', pos) + 1;
            if (lineEnd == 0) lineEnd = text.Length;
            if (lineEnd - pos > MaxDecodeLength) lineEnd = pos + MaxDecodeLength;
            var segment = text[pos..lineEnd];
            // "auto": a literal '<' means real HTML, whose entities are left alone from here on
            if (unescapeHtml && segment.Contains('<')) unescapeHtml = false;
            output.Append(FixSegment(segment, unescapeHtml));
            pos = lineEnd;
        }
        return output.ToString();
    }

    /// <summary>ftfy <c>fix_and_explain</c> on one segment, without the explanation.</summary>
    private static string FixSegment(string text, bool unescapeHtml)
    {
        while (true)
        {
            var original = text;
            if (unescapeHtml) text = HtmlUnescaper.UnescapeForFtfy(text);
            text = FtfyEncodingFixer.FixEncoding(text);
            text = FtfyEncodingFixer.FixC1Controls(text);
            text = FixLatinLigatures(text);
            text = FixCharacterWidth(text);
            text = UncurlQuotes(text);
            text = FixLineBreaks(text);
            text = FixSurrogates(text);
            text = TerminalEscape().Replace(text, "");
            text = RemoveControlChars(text);
            text = UnicodeNfc.Normalize(text);
            if (text == original) return text;
        }
    }

    /// <summary>ftfy LIGATURES: Latin typographic ligatures and legacy digraphs, split into their letters.</summary>
    private static readonly Dictionary<char, string> Ligatures = new()
    {
        ['Ĳ'] = "IJ", ['ĳ'] = "ij", ['ŉ'] = "ʼn", ['Ǳ'] = "DZ", ['ǲ'] = "Dz", ['ǳ'] = "dz", ['Ǆ'] = "DŽ", ['ǅ'] = "Dž",
        ['ǆ'] = "dž", ['Ǉ'] = "LJ", ['ǈ'] = "Lj", ['ǉ'] = "lj", ['Ǌ'] = "NJ", ['ǋ'] = "Nj", ['ǌ'] = "nj", ['ﬀ'] = "ff",
        ['ﬁ'] = "fi", ['ﬂ'] = "fl", ['ﬃ'] = "ffi", ['ﬄ'] = "ffl", ['ﬅ'] = "ſt", ['ﬆ'] = "st",
    };

    private static string FixLatinLigatures(string text) => Translate(text, Ligatures);

    /// <summary>ftfy WIDTH_MAP: fullwidth/halfwidth forms (U+FF01..U+FFEF) to their NFKC form, U+3000 to a space.</summary>
    private static readonly Lazy<Dictionary<char, string>> WidthMap = new(() =>
    {
        using var doc = TextTables.Load("ftfy-6.1.1-tables.json");
        return doc.RootElement.GetProperty("widthMap").EnumerateArray()
            .ToDictionary(e => (char)e[0].GetInt32(), e => TextTables.FromCodePoints(e[1]));
    });

    private static string FixCharacterWidth(string text) => Translate(text, WidthMap.Value);

    /// <summary>ftfy uncurl_quotes: ‘’‚‛ and ʼ become ', “”„‟ become ".</summary>
    private static string UncurlQuotes(string text)
    {
        if (!text.AsSpan().ContainsAny('\u02BC', '\u2018', '\u2019') && !text.AsSpan().ContainsAnyInRange('\u201A', '\u201F'))
            return text;
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (chars[i] is '\u02BC' or >= '\u2018' and <= '\u201B') chars[i] = '\'';
            else if (chars[i] is >= '\u201C' and <= '\u201F') chars[i] = '"';
        }
        return new string(chars);
    }

    private static string FixLineBreaks(string text) =>
        text.Replace("\r\n", "\n").Replace('\r', '\n').Replace('\u2028', '\n').Replace('\u2029', '\n').Replace('\u0085', '\n');

    /// <summary>
    /// ftfy fix_surrogates. In .NET a proper surrogate pair is already one character, so only lone surrogates are left
    /// to replace with U+FFFD.
    /// </summary>
    private static string FixSurrogates(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF')) return text;
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1])) i++;
            else if (char.IsSurrogate(chars[i])) chars[i] = '\uFFFD';
        }
        return new string(chars);
    }

    /// <summary>ftfy CONTROL_CHARS: C0 controls except \t \n \f \r, DEL, deprecated Arabic format controls, BOM, U+FFF9..U+FFFC.</summary>
    private static string RemoveControlChars(string text)
    {
        if (!text.AsSpan().ContainsAny(RemovedControlChars)) return text;
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
            if (!RemovedControlChars.Contains(c)) sb.Append(c);
        return sb.ToString();
    }

    private static readonly System.Buffers.SearchValues<char> RemovedControlChars = System.Buffers.SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000B\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015"
        + "\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F\u206A\u206B\u206C\u206D\u206E\u206F\uFEFF"
        + "\uFFF9\uFFFA\uFFFB\uFFFC");

    /// <summary>Python str.translate with a char → replacement map.</summary>
    private static string Translate(string text, Dictionary<char, string> map)
    {
        StringBuilder? sb = null;
        for (var i = 0; i < text.Length; i++)
        {
            if (map.TryGetValue(text[i], out var replacement))
            {
                sb ??= new StringBuilder(text.Length).Append(text, 0, i);
                sb.Append(replacement);
            }
            else sb?.Append(text[i]);
        }
        return sb?.ToString() ?? text;
    }

    /// <summary>ftfy ANSI_RE: "ANSI" terminal escapes such as colour codes.</summary>
    [GeneratedRegex("\u001B\\[((?:\\d|;)*)([a-zA-Z])", RegexOptions.CultureInvariant)]
    private static partial Regex TerminalEscape();
}
