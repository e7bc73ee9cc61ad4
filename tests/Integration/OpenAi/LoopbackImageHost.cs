using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MultiModal.Tests.Integration.OpenAi;

/// <summary>
/// Stands in for a remote image host: Kestrel on 127.0.0.1:0 serving one PNG at <c>/image.png</c> (and a redirect to
/// another host at <c>/elsewhere</c>), recording every request it sees, so tests can assert that a refused URL
/// produced no request at all.
/// </summary>
public sealed class LoopbackImageHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackImageHost(WebApplication app, byte[] png)
    {
        _app = app;
        Png = png;
    }

    public byte[] Png { get; }
    public int Port { get; private set; }
    public ConcurrentQueue<string> Requests { get; } = new();

    public static async Task<LoopbackImageHost> StartAsync(byte[] png)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var host = new LoopbackImageHost(app, png);
        app.Use((context, next) =>
        {
            host.Requests.Enqueue($"{context.Request.Host}{context.Request.Path}");
            return next(context);
        });
        app.MapGet("/image.png", () => Results.Bytes(png, "image/png"));
        app.MapGet("/elsewhere", (HttpContext c) => Results.Redirect($"http://img-other.localtest:{c.Connection.LocalPort}/image.png"));
        await app.StartAsync();
        host.Port = new Uri(app.Urls.First()).Port;
        return host;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
