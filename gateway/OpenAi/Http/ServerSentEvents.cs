using System.Text;
using System.Text.Json;

namespace MultiModal.Gateway.OpenAi.Http;

/// <summary>
/// Server-sent events as OpenAI streams them: <c>data: {json}\n\n</c> per event (with an <c>event:</c> line where the
/// API names events, as the image stream does), flushed at once, and <c>data: [DONE]</c> at the end of a chat stream.
/// </summary>
public static class ServerSentEvents
{
    public static Task StartAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";   // nginx and kin: do not buffer the stream
        return response.Body.FlushAsync(cancellationToken);
    }

    public static async Task WriteAsync(HttpResponse response, object payload, CancellationToken cancellationToken, string? eventName = null)
    {
        var text = new StringBuilder();
        if (eventName is not null)
            text.Append("event: ").Append(eventName).Append('\n');
        text.Append("data: ").Append(JsonSerializer.Serialize(payload, OpenAiJson.Options)).Append("\n\n");
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    public static async Task WriteDoneAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync("data: [DONE]\n\n"u8.ToArray(), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
