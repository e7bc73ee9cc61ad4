using System.Text;
using MultiModal.Models.Text;

namespace MultiModal.Models.Clip;

/// <summary>
/// The text cleanup openai/CLIP's SimpleTokenizer applies before BPE (clip/simple_tokenizer.py basic_clean +
/// whitespace_clean + lower): ftfy.fix_text, html.unescape twice, strip, collapse whitespace runs to one space, strip,
/// Python str.lower(). transformers' CLIPTokenizer does the same when ftfy is installed.
/// </summary>
public static class ClipTextNormalizer
{
    /// <summary>The normalised text the CLIP pre-tokenizer splits.</summary>
    public static string Normalize(string text)
    {
        text = FtfyTextFixer.FixText(text);
        text = HtmlUnescaper.Unescape(HtmlUnescaper.Unescape(text));
        text = CollapseWhitespace(text);
        return PythonText.Lower(text);
    }

    /// <summary>
    /// <c>re.sub(r'\s+', ' ', text.strip()).strip()</c> with the regex module's \s (White_Space); the strip() calls
    /// use str.isspace, which differs only on U+001C..U+001F, already removed by ftfy.
    /// </summary>
    private static string CollapseWhitespace(string text)
    {
        var sb = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (PythonText.IsWhiteSpace(c) || PythonText.IsSpace(c))
            {
                pendingSpace = sb.Length > 0;
                continue;
            }
            if (pendingSpace) sb.Append(' ');
            pendingSpace = false;
            sb.Append(c);
        }
        return sb.ToString();
    }
}
