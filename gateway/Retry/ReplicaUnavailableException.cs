using System.Net.Http.Headers;

namespace MultiModal.Gateway.Retry;

/// <summary>
/// A replica answered a unary call with a trailers-only <c>grpc-status: 14</c> (UNAVAILABLE: draining, model not
/// loaded): thrown by <see cref="ReplicaUnavailableHandler"/> so the proxy sees a failed attempt, with nothing sent to
/// the client. Carries the replica's headers so the answer can be passed on unchanged if the call is not retried.
/// </summary>
public sealed class ReplicaUnavailableException(IReadOnlyList<KeyValuePair<string, string[]>> headers)
    : HttpRequestException($"The replica answered UNAVAILABLE: {GrpcMessage(headers)}")
{
    /// <summary>The replica's response headers (grpc-status, grpc-message, grpc-status-details-bin, content-type, ...).</summary>
    public IReadOnlyList<KeyValuePair<string, string[]>> Headers { get; } = headers;

    /// <summary>Copies the gRPC-relevant headers of a trailers-only response.</summary>
    public static ReplicaUnavailableException From(HttpResponseMessage response)
    {
        IEnumerable<KeyValuePair<string, IEnumerable<string>>> all = response.Headers;
        all = all.Concat(response.Content.Headers);
        return new(all
            .Where(h => !HopByHop.Contains(h.Key))
            .Select(h => new KeyValuePair<string, string[]>(h.Key, h.Value.ToArray()))
            .ToArray());
    }

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Upgrade", "Proxy-Connection", "Date", "Server",
    };

    private static string GrpcMessage(IReadOnlyList<KeyValuePair<string, string[]>> headers) =>
        headers.FirstOrDefault(h => h.Key.Equals("grpc-message", StringComparison.OrdinalIgnoreCase)).Value is [var message, ..]
            ? Uri.UnescapeDataString(message)
            : "(no grpc-message)";
}
