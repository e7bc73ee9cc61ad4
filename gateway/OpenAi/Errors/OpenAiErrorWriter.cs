using System.Globalization;
using Microsoft.Net.Http.Headers;

namespace MultiModal.Gateway.OpenAi.Errors;

/// <summary>Writes <see cref="OpenAiException"/> as OpenAI does: the status, <c>Retry-After</c> on 429, the JSON body.</summary>
public static class OpenAiErrorWriter
{
    /// <summary>The error object, also sent as one SSE event when a stream fails after its first event.</summary>
    public static object Body(OpenAiException e) => new { error = Error(e) };

    /// <summary>The inner <c>{"message", "type", "param", "code"}</c>.</summary>
    public static object Error(OpenAiException e) => new { message = e.Message, type = e.Type, param = e.Param, code = e.Code };

    public static Task WriteAsync(HttpResponse response, OpenAiException e)
    {
        response.Clear();
        response.StatusCode = e.Status;
        if (e.RetryAfter is { } delay)
            response.Headers[HeaderNames.RetryAfter] = Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return response.WriteAsJsonAsync(Body(e), OpenAiJson.Options);
    }
}
