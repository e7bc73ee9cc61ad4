using Grpc.Core;
using Grpc.Core.Interceptors;
using MultiModal.Core.Errors;

namespace MultiModal.Core.Hosting.Drain;

/// <summary>
/// Counts every gRPC call in flight (except health checks and reflection, which must keep answering and whose
/// Watch/reflection streams never end by themselves); while the server drains, refuses new calls with UNAVAILABLE /
/// DRAINING, and turns the cancellation of a call left at the drain limit into UNAVAILABLE / DRAINING too.
/// Registered inside <see cref="ErrorMappingInterceptor"/>, which maps what this throws.
/// </summary>
public sealed class DrainInterceptor(DrainState drain) : Interceptor
{
    /// <summary>Health checks and reflection always answer and are not counted.</summary>
    public static bool IsExempt(string method) =>
        method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal)
        || method.StartsWith("/grpc.reflection.", StringComparison.Ordinal);

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (IsExempt(context.Method))
            return await continuation(request, context);
        using var call = Enter(context);
        try
        {
            return await continuation(request, new DrainingCallContext(context, call.Token));
        }
        catch (OperationCanceledException) when (CancelledByDrain(call, context))
        {
            throw InferenceException.DrainTimeRanOut(drain.DrainTime);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (IsExempt(context.Method))
        {
            await continuation(request, responseStream, context);
            return;
        }
        using var call = Enter(context);
        try
        {
            await continuation(request, responseStream, new DrainingCallContext(context, call.Token));
        }
        catch (OperationCanceledException) when (CancelledByDrain(call, context))
        {
            throw InferenceException.DrainTimeRanOut(drain.DrainTime);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (IsExempt(context.Method))
            return await continuation(requestStream, context);
        using var call = Enter(context);
        try
        {
            return await continuation(requestStream, new DrainingCallContext(context, call.Token));
        }
        catch (OperationCanceledException) when (CancelledByDrain(call, context))
        {
            throw InferenceException.DrainTimeRanOut(drain.DrainTime);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (IsExempt(context.Method))
        {
            await continuation(requestStream, responseStream, context);
            return;
        }
        using var call = Enter(context);
        try
        {
            await continuation(requestStream, responseStream, new DrainingCallContext(context, call.Token));
        }
        catch (OperationCanceledException) when (CancelledByDrain(call, context))
        {
            throw InferenceException.DrainTimeRanOut(drain.DrainTime);
        }
    }

    private DrainState.CallScope Enter(ServerCallContext context) =>
        drain.TryEnter(context.CancellationToken) ?? throw InferenceException.Draining(drain.DrainTime);

    // The drain's cancellation, not the client's (nor its deadline, which gRPC signals through the same token).
    private static bool CancelledByDrain(DrainState.CallScope call, ServerCallContext context) =>
        call.CancelledByDrain && !context.CancellationToken.IsCancellationRequested;
}
