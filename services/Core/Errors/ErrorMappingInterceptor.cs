using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace MultiModal.Core.Errors;

/// <summary>
/// Registered by <c>AddGrpcServiceDefaults()</c> for every handler: services throw, this maps (see <see cref="ErrorMapping"/>),
/// so no service class needs a try/catch.
/// </summary>
public sealed class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw ErrorMapping.ToRpcException(ex, CallInfo(context), logger);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw ErrorMapping.ToRpcException(ex, CallInfo(context), logger);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw ErrorMapping.ToRpcException(ex, CallInfo(context), logger);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw ErrorMapping.ToRpcException(ex, CallInfo(context), logger);
        }
    }

    // The request's W3C trace id (ASP.NET Core starts an Activity per request) ties the client's error to the log line.
    private static RpcCallInfo CallInfo(ServerCallContext context) => new(
        context.Method, context.Deadline, context.CancellationToken,
        Activity.Current?.TraceId.ToHexString() ?? Guid.NewGuid().ToString("N"));
}
