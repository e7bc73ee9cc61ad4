namespace MultiModal.Gateway;

/// <summary>
/// The <c>Gateway</c> configuration section: what the YARP <c>ReverseProxy</c> section cannot say compactly.
/// </summary>
/// <remarks>
/// Keys (appsettings.json → environment <c>Gateway__…</c> → command line <c>--Gateway:…=</c>):
/// <list type="bullet">
/// <item><c>Gateway:Upstreams:&lt;cluster&gt;</c>: comma-separated destination URLs, e.g.
/// <c>Gateway__Upstreams__Clip=http://clip-0:5101,http://clip-1:5101</c>. When set, they replace every destination
/// of the <c>ReverseProxy:Clusters</c> entry with that id (case-insensitive: Clip → clip).</item>
/// <item><c>Gateway:DnsRefreshPeriod</c>: destinations with a DNS name (a headless Service) become one destination
/// per resolved address, re-resolved this often (default 10 s).</item>
/// <item><c>Gateway:BackendKeepAlivePingDelay</c> / <c>Gateway:BackendKeepAlivePingTimeout</c>: HTTP/2 pings to the
/// backends while requests are active, so a backend that vanished mid-generation is noticed in seconds rather than
/// after the 30-minute activity timeout.</item>
/// </list>
/// </remarks>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>Destination URLs per cluster id, as one comma-separated value each.</summary>
    public Dictionary<string, string> Upstreams { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Idle time on a connection to a backend, with requests active, before the gateway pings it.</summary>
    public TimeSpan BackendKeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a ping to a backend may go unanswered before the connection is dropped.</summary>
    public TimeSpan BackendKeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How often DNS names among the destinations are resolved again (pods come and go). Zero: never.</summary>
    public TimeSpan DnsRefreshPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Splits one <see cref="Upstreams"/> value into destination addresses.</summary>
    /// <exception cref="FormatException">An entry is not an absolute http or https URL.</exception>
    public static IReadOnlyList<Uri> ParseUpstreams(string clusterId, string value)
    {
        // "none" switches a cluster off: no destinations, so its calls get UNAVAILABLE (a fleet without that service).
        if (value.Trim().Equals("none", StringComparison.OrdinalIgnoreCase))
            return [];
        var entries = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (entries.Length == 0)
            throw new FormatException($"Gateway:Upstreams:{clusterId} is set but lists no URL.");

        return entries.Select(entry =>
            Uri.TryCreate(entry, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? uri
                : throw new FormatException(
                    $"Gateway:Upstreams:{clusterId} entry '{entry}' is not an absolute http:// or https:// URL."))
            .ToArray();
    }
}
