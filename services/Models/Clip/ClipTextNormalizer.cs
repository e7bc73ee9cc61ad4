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
    /// <c>re.sub(r'\s+', ' ', text.strip()).strip()</c>: the regex module's \s is Unicode White_Space, while
    /// <c>str.strip()</c> also strips U+001C..U+001F (str.isspace).
    /// </summary>
    private static string CollapseWhitespace(string text)
    {
        text = StripPython(text);
        var sb = new StringBuilder(text.Length);
        var inRun = false;
        foreach (var c in text)
        {
            var space = PythonText.IsWhiteSpace(c);
            if (space && !inRun) sb.Append(' ');
            else if (!space) sb.Append(c);
            inRun = space;
        }
        return StripPython(sb.ToString());
    }

    private static string StripPython(string text)
    {
        var start = 0;
        var end = text.Length;
        while (start < end && PythonText.IsSpace(text[start])) start++;
        while (end > start && PythonText.IsSpace(text[end - 1])) end--;
        return text[start..end];
    }
}
