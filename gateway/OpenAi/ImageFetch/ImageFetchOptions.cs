using System.Net;
using Microsoft.Extensions.Options;

namespace MultiModal.Gateway.OpenAi.ImageFetch;

/// <summary>
/// <c>Gateway:ImageFetch</c>: which <c>http(s)</c> image URLs in REST requests the gateway fetches. Nothing by default:
/// a URL's host must be in <see cref="AllowedHosts"/>, and every address it resolves to must be public (not loopback,
/// private, link-local, CGNAT, multicast, metadata, ...) unless it lies in <see cref="AllowedNetworks"/>.
/// </summary>
public sealed class ImageFetchOptions
{
    public const string SectionName = "Gateway:ImageFetch";

    /// <summary>Host names or IP literals, exact (<c>images.example.org</c>) or a subdomain wildcard (<c>*.example.org</c>).</summary>
    public string[] AllowedHosts { get; set; } = [];

    /// <summary>CIDRs exempted from the private-address block, e.g. <c>10.20.0.0/16</c> for an internal image store.</summary>
    public string[] AllowedNetworks { get; set; } = [];

    /// <summary>
    /// Names pinned to addresses, as curl's <c>--resolve</c>: looked up here before DNS (split-horizon setups, tests).
    /// The pinned addresses pass the same checks as resolved ones.
    /// </summary>
    public Dictionary<string, string> ResolveOverrides { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Largest image fetched, in bytes (the services' own image limit is 20 MiB).</summary>
    public long MaxBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>Time for the whole fetch, redirects included.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Redirects followed, each to the same host only.</summary>
    public int MaxRedirects { get; set; } = 3;

    /// <summary>The parsed <see cref="AllowedNetworks"/>.</summary>
    public IReadOnlyList<IPNetwork> Networks() => [.. AllowedNetworks.Select(IPNetwork.Parse)];
}

/// <summary>Start-up checks of <see cref="ImageFetchOptions"/>: a bad CIDR or host pattern stops the gateway.</summary>
public sealed class ImageFetchOptionsValidator : IValidateOptions<ImageFetchOptions>
{
    public ValidateOptionsResult Validate(string? name, ImageFetchOptions o)
    {
        var failures = new List<string>();
        foreach (var network in o.AllowedNetworks)
            if (!IPNetwork.TryParse(network, out _))
                failures.Add($"{ImageFetchOptions.SectionName}:AllowedNetworks entry '{network}' is not a CIDR such as 10.0.0.0/8.");
        foreach (var host in o.AllowedHosts)
            if (!HostAllowList.IsValidPattern(host))
                failures.Add($"{ImageFetchOptions.SectionName}:AllowedHosts entry '{host}' is not a host name, an IP literal or *.domain.");
        foreach (var (host, address) in o.ResolveOverrides)
            if (!IPAddress.TryParse(address, out _))
                failures.Add($"{ImageFetchOptions.SectionName}:ResolveOverrides:{host} = '{address}' is not an IP address.");
        if (o.MaxBytes <= 0)
            failures.Add($"{ImageFetchOptions.SectionName}:MaxBytes must be > 0.");
        if (o.Timeout <= TimeSpan.Zero)
            failures.Add($"{ImageFetchOptions.SectionName}:Timeout must be > 0.");
        if (o.MaxRedirects is < 0 or > 10)
            failures.Add($"{ImageFetchOptions.SectionName}:MaxRedirects must be in [0, 10].");
        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
