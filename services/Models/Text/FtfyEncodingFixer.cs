using System.Text;
using System.Text.RegularExpressions;

namespace MultiModal.Models.Text;

/// <summary>
/// ftfy 6.1.1 <c>fix_encoding</c> with its default options: when the text looks like mojibake (<see cref="FtfyBadness"/>),
/// re-encode it in the first single-byte encoding that can hold it and decode the bytes as UTF-8 (restoring 0xA0
/// bytes that became spaces, marking lossy sequences, accepting CESU-8 and Java's 0xC0 0x80), repeated until nothing
/// changes. Structure and order follow ftfy/__init__.py (_fix_encoding_one_step_and_explain) and ftfy/fixes.py.
/// </summary>
internal static partial class FtfyEncodingFixer
{
    /// <summary>ftfy <c>fix_encoding</c>.</summary>
    public static string FixEncoding(string text)
    {
        while (true)
        {
            var fixedText = FixOneStep(text);
            if (fixedText == text) return fixedText;
            text = fixedText;
        }
    }

    private static string FixOneStep(string text)
    {
        if (text.Length == 0 || IsAscii(text) || !FtfyBadness.IsBad(text)) return text;

        var possible = new List<string>();
        foreach (var encoding in SingleByteEncoding.All)
        {
            if (!encoding.CanEncode(text)) continue;
            possible.Add(encoding.Name);
            var bytes = encoding.Encode(text);
            if (AlteredUtf8().IsMatch(Latin1(bytes)))
                bytes = RestoreByteA0(bytes);
            if (encoding.IsSloppy)
                bytes = ReplaceLossySequences(bytes);
            var variants = bytes.Contains((byte)0xED) || bytes.Contains((byte)0xC0);
            if (TryDecodeUtf8(bytes, variants, out var decoded)) return decoded;
        }

        if (FtfyBadness.Utf8Detector.IsMatch(text))
        {
            var fixedText = DecodeInconsistentUtf8(text);
            if (fixedText != text) return fixedText;
        }

        // ftfy then asks for "windows-1252" among the possible encodings, but only "sloppy-windows-1252" is ever
        // tried, so Latin-1 text always gets the strict Latin-1 -> Windows-1252 reading (which fails on the five
        // bytes Windows-1252 leaves undefined).
        if (possible.Contains("latin-1") && TryLatin1AsWindows1252(text, out var reread) && reread != text)
            return reread;

        if (C1Control().IsMatch(text)) return FixC1Controls(text);
        return text;
    }

    /// <summary>ftfy <c>fix_c1_controls</c>: C1 controls read as their Windows-1252 characters, like browsers do.</summary>
    public static string FixC1Controls(string text)
        => C1Control().Replace(text, m => Windows1252.Value.Decode((byte)m.Value[0]).ToString());

    /// <summary>ftfy <c>decode_inconsistent_utf8</c>: fix UTF-8 mojibake embedded in otherwise fine text.</summary>
    private static string DecodeInconsistentUtf8(string text) =>
        FtfyBadness.Utf8Detector.Replace(text, m =>
            m.Value.Length < text.Length && FtfyBadness.IsBad(m.Value) ? FixEncoding(m.Value) : m.Value);

    /// <summary>ftfy <c>restore_byte_a0</c>: put back 0xA0 bytes that some program turned into spaces.</summary>
    private static byte[] RestoreByteA0(byte[] bytes)
    {
        var s = AGraveWord().Replace(Latin1(bytes), "\u00C3\u00A0 ");
        s = AlteredUtf8().Replace(s, m => m.Value.Replace(' ', '\u00A0'));
        return FromLatin1(s);
    }

    /// <summary>ftfy <c>replace_lossy_sequences</c>: UTF-8 sequences with a lost byte (0x1A or '?') become U+FFFD.</summary>
    private static byte[] ReplaceLossySequences(byte[] bytes) =>
        FromLatin1(LossyUtf8().Replace(Latin1(bytes), "\u00EF\u00BF\u00BD"));

    private static bool TryLatin1AsWindows1252(string text, out string result)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is >= '\u0080' and <= '\u009F')
            {
                if (c is '\u0081' or '\u008D' or '\u008F' or '\u0090' or '\u009D')
                {
                    result = text;
                    return false; // undefined in Python's strict windows-1252 codec
                }
                sb.Append(Windows1252.Value.Decode((byte)c));
            }
            else sb.Append(c);
        }
        result = sb.ToString();
        return true;
    }

    private static readonly Lazy<SingleByteEncoding> Windows1252 =
        new(() => SingleByteEncoding.All.First(e => e.Name == "sloppy-windows-1252"));

    /// <summary>
    /// Strict UTF-8 as Python decodes it; with <paramref name="variants"/> also ftfy's "utf-8-variants": 0xC0 0x80 is
    /// U+0000 and a CESU-8 surrogate pair (ED A0-AF xx ED B0-BF xx) is one supplementary character.
    /// </summary>
    internal static bool TryDecodeUtf8(byte[] b, bool variants, out string text)
    {
        var sb = new StringBuilder(b.Length);
        text = "";
        var i = 0;
        while (i < b.Length)
        {
            int lead = b[i];
            if (lead < 0x80) { sb.Append((char)lead); i++; continue; }
            if (variants && lead == 0xC0 && i + 1 < b.Length && b[i + 1] == 0x80) { sb.Append('\0'); i += 2; continue; }
            if (variants && lead == 0xED && i + 5 < b.Length && b[i + 1] is >= 0xA0 and <= 0xAF && IsCont(b[i + 2])
                && b[i + 3] == 0xED && b[i + 4] is >= 0xB0 and <= 0xBF && IsCont(b[i + 5]))
            {
                var cp = ((b[i + 1] & 0x0F) << 16) + ((b[i + 2] & 0x3F) << 10) + ((b[i + 4] & 0x0F) << 6) + (b[i + 5] & 0x3F) + 0x10000;
                sb.Append(char.ConvertFromUtf32(cp));
                i += 6;
                continue;
            }
            // (length, allowed range of the second byte) per lead byte, as in the Unicode well-formed table
            var (length, lo, hi) = lead switch
            {
                >= 0xC2 and <= 0xDF => (2, 0x80, 0xBF),
                0xE0 => (3, 0xA0, 0xBF),
                >= 0xE1 and <= 0xEC or 0xEE or 0xEF => (3, 0x80, 0xBF),
                0xED => (3, 0x80, 0x9F),
                0xF0 => (4, 0x90, 0xBF),
                >= 0xF1 and <= 0xF3 => (4, 0x80, 0xBF),
                0xF4 => (4, 0x80, 0x8F),
                _ => (0, 0, 0),
            };
            if (length == 0 || i + length > b.Length || b[i + 1] < lo || b[i + 1] > hi) return false;
            var value = lead & (0xFF >> (length + 1));
            for (var k = 1; k < length; k++)
            {
                if (!IsCont(b[i + k])) return false;
                value = (value << 6) | (b[i + k] & 0x3F);
            }
            sb.Append(char.ConvertFromUtf32(value));
            i += length;
        }
        text = sb.ToString();
        return true;
    }

    private static bool IsCont(byte b) => b is >= 0x80 and <= 0xBF;

    private static bool IsAscii(string text) => !text.AsSpan().ContainsAnyExceptInRange('\0', '\u007F');

    // The byte-level expressions below run on bytes held one per char (Latin-1), which keeps them .NET regexes.
    private static string Latin1(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    private static byte[] FromLatin1(string s) => Encoding.Latin1.GetBytes(s);

    /// <summary>ftfy ALTERED_UTF8_RE: UTF-8 that would be valid if a space were the byte 0xA0.</summary>
    [GeneratedRegex(
        "[\u00C2\u00C3\u00C5\u00CE\u00D0\u00D9][ ]"
        + "|[\u00E2\u00E3][ ][\u0080-\u0084\u0086-\u009F\u00A1-\u00BF]"
        + "|[\u00E0-\u00E3][\u0080-\u0084\u0086-\u009F\u00A1-\u00BF][ ]"
        + "|[\u00F0][ ][\u0080-\u00BF][\u0080-\u00BF]"
        + "|[\u00F0][\u0080-\u00BF][ ][\u0080-\u00BF]"
        + "|[\u00F0][\u0080-\u00BF][\u0080-\u00BF][ ]", RegexOptions.CultureInvariant)]
    private static partial Regex AlteredUtf8();

    /// <summary>ftfy A_GRAVE_WORD_RE: "Ã " as the word "à", except in Portuguese contractions.</summary>
    [GeneratedRegex("\u00C3 (?! |quele|quela|quilo|s )", RegexOptions.CultureInvariant)]
    private static partial Regex AGraveWord();

    /// <summary>ftfy LOSSY_UTF8_RE (0x1A marks a byte that became U+FFFD).</summary>
    [GeneratedRegex(
        "[\u00C2-\u00DF][\u001A]"
        + "|[\u00C2-\u00C3][?]"
        + "|\u00ED[\u00A0-\u00AF][\u001A?]\u00ED[\u00B0-\u00BF][\u001A?\u0080-\u00BF]"
        + "|\u00ED[\u00A0-\u00AF][\u001A?\u0080-\u00BF]\u00ED[\u00B0-\u00BF][\u001A?]"
        + "|[\u00E0-\u00EF][\u001A?][\u001A\u0080-\u00BF]"
        + "|[\u00E0-\u00EF][\u001A\u0080-\u00BF][\u001A?]"
        + "|[\u00F0-\u00F4][\u001A?][\u001A\u0080-\u00BF][\u001A\u0080-\u00BF]"
        + "|[\u00F0-\u00F4][\u001A\u0080-\u00BF][\u001A?][\u001A\u0080-\u00BF]"
        + "|[\u00F0-\u00F4][\u001A\u0080-\u00BF][\u001A\u0080-\u00BF][\u001A?]"
        + "|\u001A", RegexOptions.CultureInvariant)]
    private static partial Regex LossyUtf8();

    [GeneratedRegex("[\u0080-\u009F]", RegexOptions.CultureInvariant)]
    private static partial Regex C1Control();
}
