using MultiModal.Models.Text;
using Xunit;

namespace MultiModal.Tests.Golden.Text;

/// <summary>
/// The ports behind the CLIP text cleanup, on inputs chosen to hit each rule. Expected values were printed by the
/// reference implementations (ftfy 6.1.1's fix_text, CPython 3.11's html.unescape and str.lower).
/// </summary>
public sealed class PythonTextPortTests
{
    [Theory]
    [InlineData("\u00e2\u0153\u201d No problems", "\u2714 No problems")] // UTF-8 read as Windows-1252
    [InlineData("&macr;\\_(\u00e3\u0083\u0084)_/&macr;", "\u00af\\_(\u30c4)_/\u00af")] // entities, then Latin-1 mojibake
    [InlineData("Broken text&hellip; it&#x2019;s \ufb02ubberi\ufb01c!", "Broken text\u2026 it's flubberific!")]
    [InlineData("\uff2c\uff2f\uff35\uff24\u3000\uff2e\uff2f\uff29\uff33\uff25\uff33", "LOUD NOISES")] // width
    [InlineData("voil\u00c3  le travail", "voil\u00e0 le travail")] // restore_byte_a0
    [InlineData("voil\u00c3 le travail", "voil\u00e0 le travail")] // a-grave word rule
    [InlineData("P&EACUTE;REZ", "P\u00c9REZ")] // ftfy's all-caps entities
    [InlineData("&lt;tag&gt; <b>&amp;</b>", "&lt;tag&gt; <b>&amp;</b>")] // a literal '<': real HTML, left alone
    [InlineData("line1 &amp;\nline2 <x> &amp;", "line1 &\nline2 <x> &amp;")] // ... from that line on
    [InlineData("\u001b[36;44mblue\u001b[0m", "blue")] // terminal escapes
    [InlineData("a\r\nb\u2028c\u0085d", "a\nb\nc\u2026d")] // C1 NEL is read as Windows-1252 before line breaks
    [InlineData("\u0093quoted\u0094", "\"quoted\"")]
    [InlineData("The Mona Lisa doesn\u00c3\u00a2\u00e2\u201a\u00ac\u00e2\u201e\u00a2t have eyebrows.", "The Mona Lisa doesn't have eyebrows.")]
    [InlineData("\u00e2\u20ac\u0153 like this \u00e2\u20ac\ufffd", "\" like this \ufffd")] // replace_lossy_sequences
    [InlineData("\u00ef\u00bb\u00bfBOM", "BOM")] // a mojibake BOM, then remove_control_chars
    [InlineData("&#59; &#0; &#x110000;", "&#59; \ufffd \ufffd")] // a reference that would leave its ';' stays
    [InlineData("&ampx &notit; &eacute", "&ampx &notit; &eacute")] // ftfy needs the ';'
    [InlineData("cafe\u0301 caf\u00e9\u0301", "caf\u00e9 caf\u00e9\u0301")] // NFC
    public void FixText_ReferenceExamples_MatchFtfy611(string input, string expected)
    {
        Assert.Equal(expected, FtfyTextFixer.FixText(input));
    }

    [Theory]
    [InlineData("&lt;tag&gt; <b>&amp;</b>", "<tag> <b>&</b>")]
    [InlineData("&#59; &#0; &#x110000;", "; \ufffd \ufffd")]
    [InlineData("&ampx &notit; &eacute", "&x \u00acit; \u00e9")] // legacy names without ';', longest prefix
    [InlineData("&#150; &#x80; &#1; &#xD800;", "\u2013 \u20ac  \ufffd")] // Windows-1252 fix-ups, dropped, surrogate
    [InlineData("&amp;amp; &unknown; &", "&amp; &unknown; &")]
    [InlineData("&NotNestedGreaterGreater; &fjlig;", "\u2aa2\u0338 fj")] // two-code-point HTML5 entities
    public void Unescape_ReferenceExamples_MatchPythonHtmlUnescape(string input, string expected)
    {
        Assert.Equal(expected, HtmlUnescaper.Unescape(input));
    }

    [Theory]
    [InlineData("\u03a3\u039f\u03a6\u039f\u03a3 \u039f\u0394\u039f\u03a3. \u0130", "\u03c3\u03bf\u03c6\u03bf\u03c2 \u03bf\u03b4\u03bf\u03c2. i\u0307")]
    [InlineData("\u03a3 A\u03a3\u0301B", "\u03c3 a\u03c3\u0301b")] // lone sigma, sigma followed by a cased letter
    [InlineData("\u00c5NGSTR\u00d6M \u1e9e \u2160 \U00010400", "\u00e5ngstr\u00f6m \u00df \u2170 \U00010428")]
    public void Lower_ReferenceExamples_MatchPythonStrLower(string input, string expected)
    {
        Assert.Equal(expected, PythonText.Lower(input));
    }

    [Theory]
    [InlineData("\u1100\u1161\u11a8", "\uac01")] // Hangul composition
    [InlineData("a\u0328\u0301", "\u0105\u0301")] // ogonek (220) sorts before acute (230) and composes
    [InlineData("a\u0301\u0328", "\u0105\u0301")]
    [InlineData("\u0958 \u2126", "\u0915\u093c \u03a9")] // composition exclusion, singleton
    public void Normalize_ReferenceExamples_MatchPythonNfc(string input, string expected)
    {
        Assert.Equal(expected, UnicodeNfc.Normalize(input));
    }
}
