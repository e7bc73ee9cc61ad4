using Google.Rpc;
using Grpc.Core;
using Status = Google.Rpc.Status;

namespace MultiModal.Gateway.OpenAi.Errors;

/// <summary>
/// A service's gRPC error → OpenAI's error: the status code picks the HTTP status (INVALID_ARGUMENT, OUT_OF_RANGE,
/// FAILED_PRECONDITION 400; UNAUTHENTICATED 401; PERMISSION_DENIED 403; NOT_FOUND 404; RESOURCE_EXHAUSTED 429 with
/// Retry-After from RetryInfo, or 413 for REQUEST_TOO_LARGE and gRPC's message-size refusal; UNAVAILABLE 503;
/// DEADLINE_EXCEEDED 504; others 500), AIP-193's ErrorInfo.reason becomes <c>code</c> (lower case), and the first
/// BadRequest field violation becomes <c>param</c> through the endpoint's field map (gRPC field → request JSON path).
/// Internal errors keep the service's message, which the services already scrub (a trace id, no exception text).
/// </summary>
public static class RpcErrorMapper
{
    public static OpenAiException Map(RpcException e, Func<string, string>? param = null)
    {
        var status = e.GetRpcStatus();
        var info = status?.GetDetail<ErrorInfo>();
        var field = status?.GetDetail<BadRequest>()?.FieldViolations.FirstOrDefault();
        var retry = status?.GetDetail<RetryInfo>()?.RetryDelay?.ToTimeSpan();
        var reason = info?.Reason;
        var message = string.IsNullOrEmpty(e.Status.Detail) ? e.StatusCode.ToString() : e.Status.Detail;
        if (field is not null && !string.IsNullOrEmpty(field.Description) && !message.Contains(field.Description, StringComparison.Ordinal))
            message = $"{message} ({field.Field}: {field.Description})";

        var http = e.StatusCode switch
        {
            StatusCode.InvalidArgument or StatusCode.OutOfRange or StatusCode.FailedPrecondition => 400,
            StatusCode.Unauthenticated => 401,
            StatusCode.PermissionDenied => 403,
            StatusCode.NotFound => 404,
            StatusCode.ResourceExhausted when reason == "REQUEST_TOO_LARGE" || IsMessageSizeRefusal(e) => 413,
            StatusCode.ResourceExhausted => 429,
            StatusCode.Unavailable => 503,
            StatusCode.DeadlineExceeded => 504,
            _ => 500,
        };
        if (http == 429)
            retry ??= TimeSpan.FromSeconds(1);
        var mapped = field is null ? null : (param ?? (f => f))(field.Field);
        return new OpenAiException(http, message, mapped, reason?.ToLowerInvariant() ?? DefaultCode(http), http == 429 ? retry : null);
    }

    private static bool IsMessageSizeRefusal(RpcException e) =>
        e.Status.Detail.Contains("exceeds the maximum", StringComparison.OrdinalIgnoreCase);

    private static string? DefaultCode(int http) => http switch
    {
        413 => "request_too_large",
        429 => "rate_limit_exceeded",
        503 => "service_unavailable",
        504 => "timeout",
        _ => null,
    };
}
