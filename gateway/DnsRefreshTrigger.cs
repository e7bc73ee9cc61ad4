using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace MultiModal.Gateway;

/// <summary>
/// Reloads the proxy configuration every <see cref="GatewayOptions.DnsRefreshPeriod"/>, so pods that came or went
/// behind a headless Service are picked up. YARP runs destination resolvers before config filters, and
/// <see cref="UpstreamsConfigFilter"/> must choose the URLs before they are expanded, so the expansion lives in the
/// filter and this resolver only supplies the timer.
/// </summary>
internal sealed class DnsRefreshTrigger(IOptionsMonitor<GatewayOptions> options) : IDestinationResolver
{
    public ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(
        IReadOnlyDictionary<string, DestinationConfig> destinations, CancellationToken cancellationToken)
    {
        var period = options.CurrentValue.DnsRefreshPeriod;
        var refresh = period > TimeSpan.Zero ? new CancellationChangeToken(new CancellationTokenSource(period).Token) : null;
        return ValueTask.FromResult(new ResolvedDestinationCollection(destinations, refresh));
    }
}
