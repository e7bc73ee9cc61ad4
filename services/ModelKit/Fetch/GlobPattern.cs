using System.Text.RegularExpressions;

namespace MultiModal.ModelKit.Fetch;

/// <summary>
/// The file patterns of <c>--files</c> (huggingface_hub's allow_patterns): <c>*</c> and <c>?</c> match within one
/// path segment, <c>**/</c> any number of leading directories; a pattern without '/' matches the file name at any depth.
/// </summary>
public sealed class GlobPattern
{
    private readonly Regex regex;

    public GlobPattern(string pattern)
    {
        var anchored = pattern.Contains('/') ? pattern : "**/" + pattern;
        var body = Regex.Escape(anchored)
            .Replace(@"\*\*/", "(?:.*/)?")
            .Replace(@"\*\*", ".*")
            .Replace(@"\*", "[^/]*")
            .Replace(@"\?", "[^/]");
        regex = new Regex($"^{body}$", RegexOptions.CultureInvariant);
    }

    public bool IsMatch(string path) => regex.IsMatch(path);

    /// <summary>Whether any of the comma-separated patterns matches (none given: everything).</summary>
    public static Func<string, bool> AnyOf(IReadOnlyList<string> patterns)
    {
        if (patterns.Count == 0)
            return _ => true;
        var globs = patterns.Select(p => new GlobPattern(p)).ToArray();
        return path => globs.Any(g => g.IsMatch(path));
    }
}
