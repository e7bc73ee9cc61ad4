using System.Net;

namespace MultiModal.Gateway.OpenAi.ImageFetch;

/// <summary>Name → addresses for the image fetcher (DNS in production; tests inject their own).</summary>
public interface IHostResolver
{
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}

/// <summary>
/// <c>Gateway:ImageFetch:ResolveOverrides</c> first (like curl's <c>--resolve</c>), then DNS. IP literals resolve to themselves.
/// </summary>
public sealed class DnsHostResolver(IReadOnlyDictionary<string, string> overrides) : IHostResolver
{
    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        var h = host.Trim('[', ']').TrimEnd('.');
        if (IPAddress.TryParse(h, out var literal))
            return [literal];
        if (overrides.TryGetValue(h, out var pinned))
            return [IPAddress.Parse(pinned)];
        return await Dns.GetHostAddressesAsync(h, cancellationToken);
    }
}
