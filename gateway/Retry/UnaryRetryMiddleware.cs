using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace MultiModal.Gateway.Retry;

/// <summary>
/// First step of the proxy pipeline: a unary gRPC call that failed at a replica before any response byte (the
/// connection failed or broke, or the replica answered UNAVAILABLE trailers-only) is sent once more, to another
/// healthy destination of the same cluster.
/// </summary>
/// <remarks>
/// The body is read into memory first (up to <see cref="RetryOptions.MaxBufferedRequestBytes"/>), then the rest of
/// the pipeline (session affinity, load balancing, passive health, the forwarder) runs; if that attempt is retryable,
/// the response is reset and the pipeline runs again with the failed destination left out. Never retried: streaming
/// methods (not in <see cref="UnaryMethods"/>), bodies over the limit, calls whose response has started, calls the
/// client has cancelled, and calls the replica answered (any status, any other error).
/// </remarks>
internal sealed class UnaryRetryMiddleware(
    RequestDelegate next, UnaryMethods unaryMethods, IOptionsMonitor<RetryOptions> options, ILogger<UnaryRetryMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var settings = options.CurrentValue;
        var request = context.Request;
        if (!settings.Enabled || !HttpMethods.IsPost(request.Method) || !unaryMethods.Contains(request.Path.Value)
            || request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) != true)
        {
            await next(context);
            return;
        }

        BufferedRequestBody? body;
        try
        {
            body = await BufferedRequestBody.ReadAsync(request, settings.MaxBufferedRequestBytes, context.RequestAborted);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            return;                                                          // the client went away mid-upload
        }

        if (body is null)
        {
            RetryLog.NotRetryableBodyTooLarge(logger, request.Path.Value!, settings.MaxBufferedRequestBytes);
            await next(context);
            PassOnReplicaAnswer(context);
            return;
        }

        using (body)
        {
            var proxy = context.GetReverseProxyFeature();
            var candidates = proxy.AvailableDestinations;                    // load balancing narrows it to one

            request.Body = body.OpenRead();
            await next(context);

            if (RetryableFailure(context, proxy) is not var (failed, reason)
                || OtherDestinations(context, candidates, failed) is not { Count: > 0 } others)
            {
                PassOnReplicaAnswer(context);
                return;
            }

            RetryLog.Retrying(logger, request.Path.Value!, failed.DestinationId, proxy.Cluster.Config.ClusterId, reason);
            context.Response.Clear();                                        // YARP's 502; nothing was sent
            context.Features.Set<IForwarderErrorFeature>(null);
            proxy.ProxiedDestination = null;
            proxy.AvailableDestinations = others;
            request.Body = body.OpenRead();
            await next(context);
            PassOnReplicaAnswer(context);
        }
    }

    // A failure before any response byte, that the client did not cause: the connection was refused, reset or closed
    // before the response headers (ForwarderError.Request, which includes a replica's trailers-only UNAVAILABLE), or
    // broke while the request body was being sent.
    private static (DestinationState Failed, string Reason)? RetryableFailure(HttpContext context, IReverseProxyFeature proxy)
    {
        if (context.Features.Get<IForwarderErrorFeature>() is not { } error
            || error.Error is not (ForwarderError.Request or ForwarderError.RequestBodyDestination)
            || context.Response.HasStarted
            || context.RequestAborted.IsCancellationRequested
            || proxy.ProxiedDestination is not { } failed)
            return null;
        return (failed, error.Exception is ReplicaUnavailableException unavailable
            ? unavailable.Message
            : $"{error.Error}: {error.Exception?.GetBaseException().Message}");
    }

    // Healthy destinations now (the passive policy has just marked the failed one down, or is about to), else the
    // ones this call could use when it arrived; never the one that failed.
    private static IReadOnlyList<DestinationState> OtherDestinations(
        HttpContext context, IReadOnlyList<DestinationState> candidates, DestinationState failed)
    {
        var healthy = context.GetRouteModel().Cluster?.DestinationsState.AvailableDestinations ?? [];
        var others = healthy.Where(d => d != failed).ToArray();
        return others.Length > 0 ? others : candidates.Where(d => d != failed).ToArray();
    }

    // A replica's trailers-only UNAVAILABLE that is not retried goes to the client as the replica sent it (status,
    // message, AIP-193 details), instead of YARP's bare 502.
    private static void PassOnReplicaAnswer(HttpContext context)
    {
        if (context.Features.Get<IForwarderErrorFeature>()?.Exception is not ReplicaUnavailableException unavailable
            || context.Response.HasStarted)
            return;
        context.Response.Clear();
        context.Response.StatusCode = StatusCodes.Status200OK;
        foreach (var (name, values) in unavailable.Headers)
            context.Response.Headers[name] = values;
    }
}
