using System.Text.Json;
using System.Text.RegularExpressions;

namespace MultiModal.Models.Text;

/// <summary>
/// ftfy 6.1.1's mojibake heuristics: <c>badness.is_bad</c> (BADNESS_RE: unlikely juxtapositions of the ~400
/// characters that occur in UTF-8 mojibake) and <c>chardata.UTF8_DETECTOR_RE</c> (runs that look like UTF-8 read as a
/// single-byte encoding). The character categories come from ftfy's own tables (ftfy-6.1.1-tables.json); the
/// alternatives below follow badness.py one for one. Only <see cref="IsBad"/> is needed (never the match count), so an
/// ASCII context character that opens a few of them is written as a lookbehind: every alternative then starts at a
/// non-ASCII character, which lets the regex engine skip ASCII text quickly (100,000 characters in a few ms).
/// </summary>
internal static class FtfyBadness
{
    // Python re's \s on str (str.isspace) and \w (str.isalnum or '_'); .NET's own \s and \w are different sets.
    private const string PySpace = @"[\t-\r\u001C-\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";
    private const string PyWord = @"[\p{L}\p{N}_]";

    private static readonly Lazy<(Regex Badness, Regex Utf8Detector)> Regexes = new(Build);

    /// <summary>ftfy <c>is_bad</c>: the text contains at least one likely-mojibake sequence.</summary>
    public static bool IsBad(string text) => Regexes.Value.Badness.IsMatch(text);

    /// <summary>ftfy <c>UTF8_DETECTOR_RE</c>.</summary>
    public static Regex Utf8Detector => Regexes.Value.Utf8Detector;

    private static (Regex, Regex) Build()
    {
        using var doc = TextTables.Load("ftfy-6.1.1-tables.json");
        var categories = ReadClasses(doc.RootElement.GetProperty("mojibakeCategories"));
        var clues = ReadClasses(doc.RootElement.GetProperty("utf8Clues"));

        string C(params string[] names) => "[" + string.Concat(names.Select(n => categories[n])) + "]";
        string CWith(string literal, params string[] names) =>
            "[" + string.Concat(names.Select(n => categories[n])) + literal + "]";

        string[] alternatives =
        [
            C("c1"),
            C("bad", "lower_accented", "upper_accented", "box", "start_punctuation", "end_punctuation", "currency", "numeric") + C("bad"),
            "(?<=[a-zA-Z])" + C("lower_common", "upper_common") + C("bad"),
            C("bad") + C("lower_accented", "upper_accented", "box", "start_punctuation", "end_punctuation", "currency", "numeric"),
            C("lower_accented", "lower_common", "box", "end_punctuation", "currency", "numeric") + C("upper_accented"),
            C("box", "end_punctuation", "currency", "numeric") + C("lower_accented"),
            // [upper_accented][currency] is left out on purpose, as in ftfy (fancy leetspeak-esque writing)
            C("lower_accented", "box", "end_punctuation") + C("currency"),
            "(?<=" + PySpace + ")" + C("upper_accented") + C("currency"),
            C("upper_accented", "box") + C("numeric"),
            C("lower_accented", "upper_accented", "box", "currency", "end_punctuation") + C("start_punctuation") + C("numeric"),
            C("lower_accented", "upper_accented", "currency", "numeric", "box") + C("end_punctuation") + C("start_punctuation"),
            C("currency", "numeric", "box") + C("start_punctuation"),
            "(?<=[a-z])" + C("upper_accented") + C("start_punctuation", "currency"),
            C("box") + C("kaomoji"),
            C("lower_accented", "upper_accented", "currency", "numeric", "start_punctuation", "end_punctuation") + C("box"),
            C("box") + C("end_punctuation"),
            C("lower_accented", "upper_accented") + C("end_punctuation") + PyWord,
            // the ligature œ when not followed by an unaccented Latin letter
            "[Œœ][^A-Za-z]",
            // common Windows-1252 2-character mojibake not covered above
            "[ÂÃÎÐ]" + CWith("€Šš¢£Ÿž\u00A0\u00AD®©°·»–—´", "start_punctuation", "end_punctuation"),
            "×[²³]",
            // Windows-1252 mojibake of Arabic words: four characters, as the 'common' ones take part
            "[ØÙ]" + CWith("ŸŠ®°µ»", "common", "currency", "bad", "numeric", "start_punctuation")
                + "[ØÙ]" + CWith("ŸŠ®°µ»", "common", "currency", "bad", "numeric", "start_punctuation"),
            // Windows-1252 mojibake starting 3-character sequences of some South Asian alphabets
            "à[²µ¹¼½¾]",
            // MacRoman mojibake
            "√[±∂†≠®™´≤≥¥µø]",
            "≈[°¢]",
            "‚Ä[ìîïòôúùû†°¢π]",
            "‚[âó][àä°ê]",
            // Windows-1251 mojibake of characters in the U+2000 range
            "вЂ",
            // Windows-1251 mojibake of Latin-1 characters and/or Cyrillic (3 characters, as pairs are common)
            "[ВГРС]" + CWith("°µ", "c1", "bad", "start_punctuation", "end_punctuation", "currency") + "[ВГРС]",
            // Windows-1251 on top of Latin-1 mojibake of Windows-1252, near a Latin letter
            "ГўВЂВ.[A-Za-z ]",
            // Windows-1252 encodings of 'à' and 'á', and of \xa0 itself
            "Ã[\u00A0¡]",
            "(?<=[a-z]" + PySpace + "?)[ÃÂ] ",
            "^[ÃÂ] ",
            // Â before a character that encodes exactly that character
            "(?<=" + CWith("a-z.,?!", "end_punctuation") + ")Â" + CWith(" ", "start_punctuation", "end_punctuation"),
            // Windows-1253 mojibake of characters in the U+2000 range
            "β€[™\u00A0Ά\u00AD®°]",
            // Windows-1253 mojibake of Latin-1 characters and/or Greek
            "[ΒΓΞΟ]" + CWith("°", "c1", "bad", "start_punctuation", "end_punctuation", "currency") + "[ΒΓΞΟ]",
        ];
        var badness = new Regex(string.Join("|", alternatives), RegexOptions.CultureInvariant);

        string K(string name) => "[" + clues[name] + "]";
        var detector = new Regex(
            "(?<!" + K("utf8_continuation_strict") + ")(?:"
            + K("utf8_first_of_2") + K("utf8_continuation")
            + "|" + K("utf8_first_of_3") + K("utf8_continuation") + "{2}"
            + "|" + K("utf8_first_of_4") + K("utf8_continuation") + "{3}"
            + ")+",
            RegexOptions.CultureInvariant);
        return (badness, detector);
    }

    private static Dictionary<string, string> ReadClasses(JsonElement element) =>
        element.EnumerateObject().ToDictionary(p => p.Name, p => TextTables.ReadRanges(p.Value).ToRegexClassBody());
}
