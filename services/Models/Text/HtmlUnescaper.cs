using System.Globalization;
using System.Text.RegularExpressions;

namespace MultiModal.Models.Text;

/// <summary>
/// Python's <c>html.unescape</c> (CPython 3.11 html/__init__.py): HTML5 named references, including the legacy ones
/// without a semicolon and the longest-prefix rule, and numeric references with the HTML5 replacement rules.
/// <see cref="System.Net.WebUtility.HtmlDecode(string)"/> only knows the HTML4 names and other edge rules.
/// </summary>
public static partial class HtmlUnescaper
{
    private static readonly Lazy<EntityTables> Data = new(LoadTables);

    /// <summary>Python <c>html.unescape(text)</c>.</summary>
    public static string Unescape(string text)
    {
        if (!text.Contains('&')) return text;
        return CharRef().Replace(text, m => ReplaceCharRef(m.Groups[1].Value));
    }

    /// <summary>
    /// ftfy 6.1.1 <c>fixes.unescape_html</c>: only references that end in ';', plus all-caps names of common
    /// entities (P&amp;EACUTE;REZ → PÉREZ); a numeric reference that would not consume its ';' stays as it is.
    /// </summary>
    public static string UnescapeForFtfy(string text) => FtfyEntity().Replace(text, m =>
    {
        var entity = m.Value;
        var tables = Data.Value;
        if (tables.Html5.TryGetValue(entity[1..], out var value) && entity.EndsWith(';')) return value;
        if (tables.FtfyUppercase.TryGetValue(entity, out value)) return value;
        if (entity.StartsWith("&#", StringComparison.Ordinal))
        {
            var unescaped = Unescape(entity);
            return unescaped.Contains(';') ? entity : unescaped;
        }
        return entity;
    });

    private static string ReplaceCharRef(string s)
    {
        var html5 = Data.Value.Html5;
        if (s[0] == '#')
        {
            var hex = s[1] is 'x' or 'X';
            var digits = s[(hex ? 2 : 1)..].TrimEnd(';');
            var num = ParseSaturating(digits, hex);
            if (InvalidCharRefs.TryGetValue(num, out var replacement)) return replacement;
            if (num is >= 0xD800 and <= 0xDFFF or > 0x10FFFF) return "\uFFFD";
            if (IsInvalidCodePoint(num)) return "";
            return char.ConvertFromUtf32((int)num);
        }
        if (html5.TryGetValue(s, out var named)) return named;
        // the longest name that prefixes s (legacy references such as "&ampx" or "&notit;")
        for (var x = s.Length - 1; x > 1; x--)
            if (html5.TryGetValue(s[..x], out named))
                return named + s[x..];
        return "&" + s;
    }

    /// <summary>Python int() of the digits, capped just above U+10FFFF (every larger value behaves the same).</summary>
    private static long ParseSaturating(string digits, bool hex)
    {
        long value = 0;
        foreach (var c in digits)
        {
            value = value * (hex ? 16 : 10) + int.Parse(c.ToString(), hex ? NumberStyles.HexNumber : NumberStyles.None,
                CultureInfo.InvariantCulture);
            if (value > 0x110000) return 0x110000;
        }
        return value;
    }

    private static bool IsInvalidCodePoint(long n) =>
        n is (>= 0x1 and <= 0x8) or (>= 0xE and <= 0x1F) or (>= 0x7F and <= 0x9F) or (>= 0xFDD0 and <= 0xFDEF) or 0xB
        || (n & 0xFFFE) == 0xFFFE; // U+xFFFE and U+xFFFF in every plane

    /// <summary>html._invalid_charrefs: what browsers put for these numeric references.</summary>
    private static readonly Dictionary<long, string> InvalidCharRefs = new()
    {
        [0x00] = "\uFFFD", [0x0D] = "\r", [0x80] = "\u20AC", [0x81] = "\u0081", [0x82] = "\u201A", [0x83] = "\u0192",
        [0x84] = "\u201E", [0x85] = "\u2026", [0x86] = "\u2020", [0x87] = "\u2021", [0x88] = "\u02C6", [0x89] = "\u2030",
        [0x8A] = "\u0160", [0x8B] = "\u2039", [0x8C] = "\u0152", [0x8D] = "\u008D", [0x8E] = "\u017D", [0x8F] = "\u008F",
        [0x90] = "\u0090", [0x91] = "\u2018", [0x92] = "\u2019", [0x93] = "\u201C", [0x94] = "\u201D", [0x95] = "\u2022",
        [0x96] = "\u2013", [0x97] = "\u2014", [0x98] = "\u02DC", [0x99] = "\u2122", [0x9A] = "\u0161", [0x9B] = "\u203A",
        [0x9C] = "\u0153", [0x9D] = "\u009D", [0x9E] = "\u017E", [0x9F] = "\u0178",
    };

    [GeneratedRegex(@"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)", RegexOptions.CultureInvariant)]
    private static partial Regex CharRef();

    [GeneratedRegex(@"&#?[0-9A-Za-z]{1,24};", RegexOptions.CultureInvariant)]
    private static partial Regex FtfyEntity();

    private sealed record EntityTables(Dictionary<string, string> Html5, Dictionary<string, string> FtfyUppercase);

    private static EntityTables LoadTables()
    {
        using var doc = TextTables.Load("html5-entities.json");
        var html5 = doc.RootElement.GetProperty("html5").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
        var upper = doc.RootElement.GetProperty("ftfyUppercase").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
        return new EntityTables(html5, upper);
    }
}
