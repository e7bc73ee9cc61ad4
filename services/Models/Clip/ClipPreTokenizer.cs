using System.Globalization;
using System.Text;

namespace MultiModal.Models.Clip;

/// <summary>
/// openai/CLIP's pre-tokenization regex, scanned by hand over code points:
/// <c>&lt;\|startoftext\|&gt;|&lt;\|endoftext\|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>
/// (regex module, IGNORECASE). Not a .NET Regex: .NET classifies UTF-16 units, so a supplementary-plane letter or
/// digit (𝐀, 𠀀, 𝟙) would fall into the "other" class instead of \p{L}/\p{N} as in Python.
/// </summary>
public static class ClipPreTokenizer
{
    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";

    private static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    /// <summary>The pieces <c>re.findall</c> returns for already normalised (lowercased) text, lazily.</summary>
    public static IEnumerable<string> Split(string text)
    {
        var i = 0;
        while (i < text.Length)
        {
            var rune = RuneAt(text, i);
            var start = i;
            if (text[i] == '<' && (StartsWithIgnoreCase(text, i, StartOfText) || StartsWithIgnoreCase(text, i, EndOfText)))
            {
                var length = StartsWithIgnoreCase(text, i, StartOfText) ? StartOfText.Length : EndOfText.Length;
                i += length;
                yield return text.Substring(start, length);
                continue;
            }
            if (text[i] == '\'' && Contractions.FirstOrDefault(c => StartsWithIgnoreCase(text, i, c)) is { } contraction)
            {
                i += contraction.Length;
                yield return text.Substring(start, contraction.Length);
                continue;
            }
            var kind = Classify(rune);
            if (kind == CharKind.Space)
            {
                i += rune.Utf16SequenceLength;
                continue;
            }
            i += rune.Utf16SequenceLength;
            if (kind != CharKind.Number) // letters and "other" run on; a number is one code point
                while (i < text.Length && Classify(RuneAt(text, i)) == kind)
                    i += RuneAt(text, i).Utf16SequenceLength;
            yield return text[start..i];
        }
    }

    private enum CharKind { Letter, Number, Space, Other }

    private static CharKind Classify(Rune rune)
    {
        // U+0345 COMBINING GREEK YPOGEGRAMMENI (Mn) case-folds to the letter ι: under IGNORECASE the regex module
        // matches it with neither [\p{L}] nor [^\s\p{L}\p{N}], so findall skips it like a space. It is the only
        // code point whose class changes under IGNORECASE.
        if (rune.Value == 0x345) return CharKind.Space;
        var category = Rune.GetUnicodeCategory(rune);
        return category switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharKind.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharKind.Number,
            _ when Text.PythonText.IsWhiteSpace(rune.Value) => CharKind.Space,
            _ => CharKind.Other,
        };
    }

    /// <summary>A lone surrogate reads as U+FFFD's category ("other"), as Python would class a lone surrogate (Cs).</summary>
    private static Rune RuneAt(string text, int i) => Rune.TryGetRuneAt(text, i, out var r) ? r : Rune.ReplacementChar;

    /// <summary>IGNORECASE as the regex module does it (simple case folding): 'ſ' (U+017F) folds to 's'.</summary>
    private static bool StartsWithIgnoreCase(string text, int index, string literal)
    {
        if (index + literal.Length > text.Length) return false;
        for (var k = 0; k < literal.Length; k++)
        {
            var c = text[index + k];
            var l = literal[k];
            if (c == l || (l == 's' && c == '\u017F')) continue;
            if (c is >= 'A' and <= 'Z' && c + 32 == l) continue;
            if (l == 'k' && c == '\u212A') continue;
            return false;
        }
        return true;
    }
}
