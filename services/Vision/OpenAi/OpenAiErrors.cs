using System.ClientModel;
using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using MultiModal.Contracts.Common.V1;
using MultiModal.Core.Errors;

namespace MultiModal.Vision.OpenAi;

/// <summary>
/// Upstream failures → statuses the caller can act on (reason UPSTREAM_ERROR, metadata httpStatus):
/// 400/413/422 and other 4xx → INVALID_ARGUMENT (the request was refused as sent); 401/403/404 → UNAVAILABLE (the
/// service's own key or model id is wrong: nothing the caller can fix, and UNAUTHENTICATED would wrongly blame the
/// caller's credentials); 408/504 and our own network timeout → DEADLINE_EXCEEDED; 429 → RESOURCE_EXHAUSTED (with
/// RetryInfo from Retry-After); 5xx and connection failures → UNAVAILABLE.
/// </summary>
public static class OpenAiErrors
{
    /// <summary>The exception to throw for <paramref name="exception"/>, or null when it is the caller's own cancellation.</summary>
    public static InferenceException? Map(Exception exception, CancellationToken callToken) => exception switch
    {
        _ when callToken.IsCancellationRequested => null,
        ClientResultException { Status: > 0 } http => FromHttp(http),
        ClientResultException { InnerException: OperationCanceledException or TimeoutException } or OperationCanceledException or TimeoutException =>
            Upstream(StatusCode.DeadlineExceeded, 0, "The upstream model did not answer within the configured timeout."),
        ClientResultException or HttpRequestException or IOException =>
            Upstream(StatusCode.Unavailable, 0, "The upstream model endpoint could not be reached."),
        _ => null,
    };

    private static InferenceException FromHttp(ClientResultException e)
    {
        var status = e.Status;
        var code = status switch
        {
            401 or 403 or 404 => StatusCode.Unavailable,
            408 or 504 => StatusCode.DeadlineExceeded,
            429 => StatusCode.ResourceExhausted,
            >= 400 and < 500 => StatusCode.InvalidArgument,
            _ => StatusCode.Unavailable,
        };
        var detail = UpstreamMessage(e);
        var message = status switch
        {
            401 or 403 => $"The upstream model endpoint refused this service's credentials (HTTP {status}).",
            404 => $"The upstream model endpoint does not know the configured model (HTTP 404){Suffix(detail)}",
            429 => $"The upstream model endpoint is rate limiting this service (HTTP 429){Suffix(detail)}",
            _ => $"The upstream model endpoint answered HTTP {status}{Suffix(detail)}",
        };
        return Upstream(code, status, message, status == 429 ? RetryAfter(e) : null);
    }

    private static InferenceException Upstream(StatusCode code, int httpStatus, string message, TimeSpan? retryAfter = null) =>
        new(code, ErrorReason.UpstreamError, message, retryAfter,
            metadata: new Dictionary<string, string> { ["httpStatus"] = httpStatus.ToString(CultureInfo.InvariantCulture) });

    private static string Suffix(string? detail) => detail is null ? "." : $": {detail}";

    // OpenAI's error body: {"error": {"message": "...", "type": "...", "code": ...}}. Cut short: it is echoed to clients.
    private static string? UpstreamMessage(ClientResultException e)
    {
        try
        {
            var body = e.GetRawResponse()?.Content;
            if (body is null || body.ToMemory().Length == 0)
                return null;
            using var json = JsonDocument.Parse(body.ToMemory());
            if (json.RootElement.TryGetProperty("error", out var error) && error.TryGetProperty("message", out var m)
                && m.GetString() is { Length: > 0 } text)
                return text.Length <= 500 ? text : text[..500] + "…";
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page): the status code says enough.
        }
        return null;
    }

    private static TimeSpan? RetryAfter(ClientResultException e) =>
        e.GetRawResponse()?.Headers.TryGetValue("Retry-After", out var value) == true
        && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? TimeSpan.FromSeconds(seconds)
            : null;
}
