using System.Net;

namespace MultiModal.Gateway.OpenAi.ImageFetch;

/// <summary>
/// <c>Gateway:ImageFetch:AllowedHosts</c>: exact names and IP literals, or <c>*.example.org</c> for any subdomain of
/// example.org (not example.org itself). Names compare case-insensitively without a trailing dot; IP literals compare
/// as addresses (<c>[::1]</c> and <c>::1</c> are the same).
/// </summary>
public sealed class HostAllowList(IEnumerable<string> patterns)
{
    private readonly HashSet<string> _exact = new(patterns.Where(p => !p.StartsWith("*.", StringComparison.Ordinal)).Select(Normalize), StringComparer.Ordinal);
    private readonly string[] _suffixes = [.. patterns.Where(p => p.StartsWith("*.", StringComparison.Ordinal)).Select(p => Normalize(p[1..]))];

    public bool IsEmpty => _exact.Count == 0 && _suffixes.Length == 0;

    public bool Allows(string host)
    {
        var h = Normalize(host);
        return h.Length > 0 && (_exact.Contains(h) || (!IPAddress.TryParse(h, out _) && _suffixes.Any(s => h.EndsWith(s, StringComparison.Ordinal) && h.Length > s.Length)));
    }

    public static bool IsValidPattern(string pattern)
    {
        var p = pattern.StartsWith("*.", StringComparison.Ordinal) ? pattern[2..] : pattern;
        return p.Length > 0 && (IPAddress.TryParse(p.Trim('[', ']'), out _) || Uri.CheckHostName(p.TrimEnd('.')) == UriHostNameType.Dns);
    }

    private static string Normalize(string host)
    {
        var h = host.Trim().TrimEnd('.').ToLowerInvariant();
        var bare = h.Trim('[', ']');
        return IPAddress.TryParse(bare, out var ip) ? ip.ToString() : h;
    }
}
