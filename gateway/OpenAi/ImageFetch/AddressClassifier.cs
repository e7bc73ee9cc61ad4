using System.Net;
using System.Net.Sockets;

namespace MultiModal.Gateway.OpenAi.ImageFetch;

/// <summary>
/// Which addresses the image fetcher may connect to: public unicast only, unless an operator's allowed network
/// (<c>Gateway:ImageFetch:AllowedNetworks</c>) contains the address. IPv4-mapped and NAT64 IPv6 addresses are judged
/// by the IPv4 address inside them (<c>::ffff:127.0.0.1</c> is loopback).
/// </summary>
public static class AddressClassifier
{
    // RFC 6890 special-purpose ranges that must never be reached from a URL a client chose.
    private static readonly IPNetwork[] Blocked =
    [
        IPNetwork.Parse("0.0.0.0/8"),          // "this network"; 0.0.0.0 reaches the local host on Linux
        IPNetwork.Parse("10.0.0.0/8"),         // private
        IPNetwork.Parse("100.64.0.0/10"),      // carrier-grade NAT (shared address space)
        IPNetwork.Parse("127.0.0.0/8"),        // loopback
        IPNetwork.Parse("169.254.0.0/16"),     // link-local, cloud metadata (169.254.169.254)
        IPNetwork.Parse("172.16.0.0/12"),      // private
        IPNetwork.Parse("192.0.0.0/24"),       // IETF protocol assignments (some metadata services)
        IPNetwork.Parse("192.0.2.0/24"),       // documentation
        IPNetwork.Parse("192.168.0.0/16"),     // private
        IPNetwork.Parse("198.18.0.0/15"),      // benchmarking
        IPNetwork.Parse("198.51.100.0/24"),    // documentation
        IPNetwork.Parse("203.0.113.0/24"),     // documentation
        IPNetwork.Parse("224.0.0.0/4"),        // multicast
        IPNetwork.Parse("240.0.0.0/4"),        // reserved, broadcast
        IPNetwork.Parse("::/128"),             // unspecified
        IPNetwork.Parse("::1/128"),            // loopback
        IPNetwork.Parse("100::/64"),           // discard
        IPNetwork.Parse("2001:db8::/32"),      // documentation
        IPNetwork.Parse("fc00::/7"),           // unique local
        IPNetwork.Parse("fe80::/10"),          // link-local
        IPNetwork.Parse("fec0::/10"),          // site-local (deprecated)
        IPNetwork.Parse("ff00::/8"),           // multicast
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");

    /// <summary>True when <paramref name="address"/> is in a blocked range (before any exemption).</summary>
    public static bool IsSpecialPurpose(IPAddress address)
    {
        var a = Canonical(address);
        return Blocked.Any(n => n.BaseAddress.AddressFamily == a.AddressFamily && n.Contains(a));
    }

    /// <summary>True when the fetcher may connect to <paramref name="address"/>.</summary>
    public static bool IsAllowed(IPAddress address, IReadOnlyList<IPNetwork> allowedNetworks)
    {
        var a = Canonical(address);
        return !IsSpecialPurpose(a) || allowedNetworks.Any(n => n.BaseAddress.AddressFamily == a.AddressFamily && n.Contains(a));
    }

    /// <summary>The IPv4 address inside an IPv4-mapped or NAT64 address; other addresses unchanged (scope id dropped).</summary>
    public static IPAddress Canonical(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            return address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            var plain = new IPAddress(bytes);
            if (Nat64.Contains(plain))
                return new IPAddress(bytes.AsSpan(12, 4));
            return plain;
        }
        return address;
    }
}
