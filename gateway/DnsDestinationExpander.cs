using System.Net;
using System.Net.Sockets;
using Yarp.ReverseProxy.Configuration;

namespace MultiModal.Gateway;

/// <summary>
/// Turns a destination whose host is a DNS name into one destination per address. Behind a headless Service that is
/// one per pod, so YARP balances, health-checks and avoids pods, not whichever pod a pooled HTTP/2 connection
/// happened to reach.
/// </summary>
/// <remarks>
/// Differs from YARP's <c>DnsDestinationResolver</c> on purpose: a name that does not resolve (no pod with an IP
/// yet) yields no destinations and a warning instead of failing the whole configuration, which would stop the
/// gateway starting; and addresses are sorted and named by IP, so a destination id keeps its pod (and its health
/// state) across refreshes even though DNS servers rotate the record order.
/// </remarks>
internal static class DnsDestinationExpander
{
    public static async Task<IReadOnlyList<KeyValuePair<string, DestinationConfig>>> ExpandAsync(
        string destinationId, DestinationConfig destination, ILogger logger, CancellationToken cancel)
    {
        var address = new Uri(destination.Address);
        if (address.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6)
            return [new(destinationId, destination)];

        IPAddress[] resolved;
        try
        {
            resolved = await Dns.GetHostAddressesAsync(address.DnsSafeHost, cancel);
        }
        catch (SocketException ex)
        {
            GatewayLog.DestinationUnresolved(logger, destinationId, address.DnsSafeHost, ex.Message);
            return [];
        }

        return resolved
            .OrderBy(ip => ip.AddressFamily).ThenBy(ip => ip.GetAddressBytes(), BytesComparer.Instance)
            .Select(ip => new KeyValuePair<string, DestinationConfig>(
                $"{destinationId}@{ip}",
                destination with
                {
                    Address = new UriBuilder(address) { Host = ip.ToString() }.Uri.ToString(),
                    Host = destination.Host ?? address.Authority,    // :authority stays the Service name
                }))
            .ToArray();
    }

    private sealed class BytesComparer : IComparer<byte[]>
    {
        public static readonly BytesComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
