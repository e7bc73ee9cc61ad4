using Microsoft.Extensions.Options;
using MultiModal.Gateway.Retry;
using Yarp.ReverseProxy.Forwarder;

namespace MultiModal.Gateway;

/// <summary>
/// YARP's client factory plus HTTP/2 keep-alive pings while requests are active: a generation stream can be quiet
/// for minutes, and without pings a backend node that disappeared (no RST, no FIN) would hold the call until the
/// activity timeout. Every client also gets <see cref="ReplicaUnavailableHandler"/>, which turns a replica's
/// trailers-only UNAVAILABLE to a unary call into a failed attempt that <see cref="UnaryRetryMiddleware"/> can retry.
/// </summary>
internal sealed class GatewayHttpClientFactory(
    IOptions<GatewayOptions> options, UnaryMethods unaryMethods, ILogger<ForwarderHttpClientFactory> logger)
    : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests;
        handler.KeepAlivePingDelay = options.Value.BackendKeepAlivePingDelay;
        handler.KeepAlivePingTimeout = options.Value.BackendKeepAlivePingTimeout;
    }

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        new ReplicaUnavailableHandler(unaryMethods) { InnerHandler = base.WrapHandler(context, handler) };
}
