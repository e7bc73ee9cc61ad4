using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using ErrorInfo = Google.Rpc.ErrorInfo;
using RetryInfo = Google.Rpc.RetryInfo;
using Grpc.Core;
using Microsoft.Net.Http.Headers;
using MultiModal.Contracts.Common.V1;

namespace MultiModal.Gateway.FrontDoor;

/// <summary>
/// The front door's refusals. gRPC callers get a trailers-only response (HTTP 200, <c>grpc-status</c> in the one
/// HEADERS frame) carrying an AIP-193 <c>google.rpc.Status</c> in <c>grpc-status-details-bin</c>: an HTTP 401 or 429
/// would reach gRPC clients as UNAVAILABLE/UNKNOWN. Other callers (REST) get the HTTP status with a JSON error body.
/// </summary>
internal static class FrontDoorResponses
{
    private const string Domain = "multimodal";

    // ErrorInfo.reason is the proto value name without ERROR_REASON_, read from the descriptor (as services/Core does).
    private static readonly FrozenDictionary<ErrorReason, string> WireNames = ErrorReasonReflection.Descriptor
        .FindTypeByName<EnumDescriptor>("ErrorReason").Values
        .ToFrozenDictionary(v => (ErrorReason)v.Number, v => v.Name["ERROR_REASON_".Length..]);

    /// <summary>gRPC (<c>application/grpc</c>, <c>application/grpc+proto</c>, ...), not gRPC-Web.</summary>
    public static bool IsGrpc(HttpRequest request) =>
        request.ContentType is { } type && type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase)
        && !type.StartsWith("application/grpc-web", StringComparison.OrdinalIgnoreCase);

    public static Task Unauthenticated(HttpContext context, ErrorReason reason, string message)
    {
        if (IsGrpc(context.Request))
            return TrailersOnly(context, StatusCode.Unauthenticated, reason, message, retryAfter: null, metadata: null);
        context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
        return Rest(context, StatusCodes.Status401Unauthorized, reason, message, retryAfter: null);
    }

    public static Task Exhausted(HttpContext context, ErrorReason reason, string message, TimeSpan? retryAfter,
        IReadOnlyDictionary<string, string> metadata, int restStatus)
    {
        if (IsGrpc(context.Request))
            return TrailersOnly(context, StatusCode.ResourceExhausted, reason, message, retryAfter, metadata);
        return Rest(context, restStatus, reason, message, retryAfter);
    }

    private static Task TrailersOnly(HttpContext context, StatusCode code, ErrorReason reason, string message,
        TimeSpan? retryAfter, IReadOnlyDictionary<string, string>? metadata)
    {
        var info = new ErrorInfo { Reason = WireNames[reason], Domain = Domain };
        if (metadata is not null)
            foreach (var (name, value) in metadata)
                info.Metadata[name] = value;
        var status = new Google.Rpc.Status { Code = (int)code, Message = message, Details = { Any.Pack(info) } };
        if (retryAfter is { } delay)
            status.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(delay) }));

        var response = context.Response;
        response.Clear();
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)code).ToString(CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = PercentEncode(message);
        response.Headers["grpc-status-details-bin"] = Convert.ToBase64String(status.ToByteArray());
        // No body: Kestrel ends the stream with this HEADERS frame, which is what gRPC calls trailers-only.
        return Task.CompletedTask;
    }

    private static Task Rest(HttpContext context, int statusCode, ErrorReason reason, string message, TimeSpan? retryAfter)
    {
        var response = context.Response;
        response.StatusCode = statusCode;
        if (retryAfter is { } delay)
            response.Headers[HeaderNames.RetryAfter] = Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        // The shape the REST endpoints and OpenAI-compatible clients use: {"error": {"message", "type", "param", "code"}}.
        var error = new OpenAi.Errors.OpenAiException(statusCode, message, param: null, code: WireNames[reason].ToLowerInvariant());
        return response.WriteAsJsonAsync(OpenAi.Errors.OpenAiErrorWriter.Body(error), OpenAi.OpenAiJson.Options);
    }

    // grpc-message is percent-encoded: bytes outside printable ASCII, and '%' itself.
    private static string PercentEncode(string message)
    {
        var builder = new StringBuilder(message.Length);
        foreach (var b in Encoding.UTF8.GetBytes(message))
        {
            if (b is >= 0x20 and <= 0x7E and not (byte)'%')
                builder.Append((char)b);
            else
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return builder.ToString();
    }
}
