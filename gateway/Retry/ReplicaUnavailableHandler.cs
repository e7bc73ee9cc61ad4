namespace MultiModal.Gateway.Retry;

/// <summary>
/// Sits between YARP's forwarder and the backend connection. A unary call that a replica answers trailers-only with
/// <c>grpc-status: 14</c> (UNAVAILABLE), i.e. before any response message, becomes a
/// <see cref="ReplicaUnavailableException"/>: YARP then reports a failed attempt (nothing is written to the client),
/// the passive health policy marks the replica down and <see cref="UnaryRetryMiddleware"/> retries elsewhere, or
/// passes the replica's answer on. Streaming calls and every other response pass through untouched.
/// </summary>
internal sealed class ReplicaUnavailableHandler(UnaryMethods unaryMethods) : DelegatingHandler
{
    private const string GrpcStatusUnavailable = "14";

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        // grpc-status among the response *headers* (not trailers) is a trailers-only response: no message follows.
        if (unaryMethods.Contains(request.RequestUri?.AbsolutePath)
            && response.Headers.TryGetValues("grpc-status", out var status)
            && status.FirstOrDefault() == GrpcStatusUnavailable)
        {
            var unavailable = ReplicaUnavailableException.From(response);
            response.Dispose();
            throw unavailable;
        }
        return response;
    }
}
