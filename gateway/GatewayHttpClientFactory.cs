using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace MultiModal.Gateway;

/// <summary>
/// YARP's client factory plus HTTP/2 keep-alive pings while requests are active: a generation stream can be quiet
/// for minutes, and without pings a backend node that disappeared (no RST, no FIN) would hold the call until the
/// activity timeout.
/// </summary>
internal sealed class GatewayHttpClientFactory(IOptions<GatewayOptions> options, ILogger<ForwarderHttpClientFactory> logger)
    : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests;
        handler.KeepAlivePingDelay = options.Value.BackendKeepAlivePingDelay;
        handler.KeepAlivePingTimeout = options.Value.BackendKeepAlivePingTimeout;
    }
}
