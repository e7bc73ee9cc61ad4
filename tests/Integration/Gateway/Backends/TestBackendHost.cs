using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MultiModal.Tests.Integration.Gateway.Backends;

/// <summary>
/// An in-test Kestrel server on 127.0.0.1:0 speaking h2c, hosting one gRPC test double and <c>GET /healthz</c>
/// (200, or 503 when started unhealthy) the way real backends answer the gateway's active health probes.
/// </summary>
public sealed class TestBackendHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _healthProbes;

    private TestBackendHost(WebApplication app) => _app = app;

    /// <summary>The bound address, e.g. <c>http://127.0.0.1:40123</c>.</summary>
    public Uri Address => new(_app.Urls.Single());

    /// <summary>How many <c>GET /healthz</c> requests arrived (the gateway's active probes).</summary>
    public int HealthProbes => Volatile.Read(ref _healthProbes);

    /// <summary>Starts a host serving <paramref name="service"/> (a singleton, so tests can inspect it).</summary>
    public static async Task<TestBackendHost> StartAsync<TService>(TService service, bool healthy = true)
        where TService : class
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(service);

        var host = new TestBackendHost(builder.Build());
        host._app.MapGrpcService<TService>();
        host._app.MapGet("/healthz", () =>
        {
            Interlocked.Increment(ref host._healthProbes);
            return healthy ? Results.Ok() : Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        });
        await host._app.StartAsync();
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
