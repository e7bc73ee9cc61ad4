using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using MultiModal.Tests.Testing;

namespace MultiModal.Tests.Integration.Vision;

/// <summary>
/// An in-test Kestrel server on 127.0.0.1:0 that plays OpenAI's <c>POST /v1/chat/completions</c> from the
/// recorded bodies in <c>Recorded/</c>, and keeps every request it received for the test to inspect. The user's
/// text picks the answer, so parallel calls never depend on order: "status 400|401|429|500" answers that error,
/// "slow" never answers (until the caller gives up), anything else the completion (or its SSE stream when the
/// request has <c>"stream": true</c>).
/// </summary>
public sealed class RecordedOpenAiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    private RecordedOpenAiServer(WebApplication app) => _app = app;

    /// <summary>Base URL as the OpenAI client expects it, e.g. <c>http://127.0.0.1:40123/v1</c>.</summary>
    public string BaseUrl => _app.Urls.Single() + "/v1";

    /// <summary>Every request received so far, oldest first.</summary>
    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    /// <summary>The newest request whose user text is <paramref name="prompt"/>.</summary>
    public RecordedRequest RequestWithPrompt(string prompt) => Requests.Last(r => r.UserText == prompt);

    public static string Recorded(string file) => Path.Combine(TestPaths.RepoRoot, "tests", "Integration", "Vision", "Recorded", file);

    public static async Task<RecordedOpenAiServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1AndHttp2));
        var server = new RecordedOpenAiServer(builder.Build());
        server._app.MapPost("/v1/chat/completions", server.ChatCompletionsAsync);
        await server._app.StartAsync();
        return server;
    }

    private async Task ChatCompletionsAsync(HttpContext http)
    {
        using var body = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
        var request = new RecordedRequest(http.Request.Path, http.Request.Headers.Authorization.ToString(), body.RootElement.Clone());
        _requests.Enqueue(request);

        switch (request.UserText)
        {
            case "status 400": await ErrorAsync(http, 400, "error-400-context-length.json"); return;
            case "status 401": await ErrorAsync(http, 401, "error-401-invalid-api-key.json"); return;
            case "status 429":
                http.Response.Headers["retry-after"] = "20";
                await ErrorAsync(http, 429, "error-429-rate-limit.json");
                return;
            case "status 500": await ErrorAsync(http, 500, "error-500-server-error.json"); return;
            case "slow":
                await Task.Delay(Timeout.Infinite, http.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                return;
        }

        if (request.Body.TryGetProperty("stream", out var stream) && stream.GetBoolean())
        {
            http.Response.ContentType = "text/event-stream; charset=utf-8";
            // Event by event, flushed, as the real endpoint streams them.
            foreach (var e in File.ReadAllText(Recorded("chat-completion-stream.sse")).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
            {
                await http.Response.WriteAsync(e + "\n\n", http.RequestAborted);
                await http.Response.Body.FlushAsync(http.RequestAborted);
            }
            return;
        }
        http.Response.ContentType = "application/json";
        await http.Response.SendFileAsync(Recorded("chat-completion.json"), http.RequestAborted);
    }

    private static async Task ErrorAsync(HttpContext http, int status, string file)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.SendFileAsync(Recorded(file), http.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One request as the server received it.</summary>
public sealed record RecordedRequest(string Path, string Authorization, JsonElement Body)
{
    /// <summary>The text part of the first (user) message.</summary>
    public string UserText => Content.EnumerateArray().Where(p => p.GetProperty("type").GetString() == "text")
        .Select(p => p.GetProperty("text").GetString()!).Single();

    /// <summary><c>messages[0].content</c>.</summary>
    public JsonElement Content => Body.GetProperty("messages")[0].GetProperty("content");
}
