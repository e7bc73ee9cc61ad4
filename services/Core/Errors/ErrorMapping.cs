using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using MultiModal.Contracts.Common.V1;
using MultiModal.Core.Logging;
using MultiModal.Models.Errors;
using Status = Google.Rpc.Status;

namespace MultiModal.Core.Errors;

/// <summary>
/// The one place where failures become gRPC statuses (AIP-193): a <c>google.rpc.Status</c> with exactly one ErrorInfo
/// (domain <see cref="ErrorReasons.Domain"/>), plus BadRequest for bad fields and RetryInfo for retryable failures.
/// </summary>
public static class ErrorMapping
{
    /// <summary>Maps any exception escaping a gRPC handler. Unexpected ones are logged at Error and hidden from the client.</summary>
    public static RpcException ToRpcException(Exception exception, RpcCallInfo call, ILogger logger) => exception switch
    {
        RpcException rpc => rpc,
        InferenceException inference => ToRpcException(inference),
        InputRejectedException rejected => ToRpcException(FromInputRejection(rejected)),
        OperationCanceledException when DeadlinePassed(call.Deadline) => ToRpcException(InferenceException.DeadlineTooShort()),
        OperationCanceledException when call.CancellationToken.IsCancellationRequested =>
            new RpcException(new Grpc.Core.Status(StatusCode.Cancelled, "The call was cancelled by the client.")),
        _ => Internal(exception, call, logger),
    };

    /// <summary>The status proto for an <see cref="InferenceException"/>, sent in the grpc-status-details-bin trailer.</summary>
    public static RpcException ToRpcException(InferenceException exception) => ToStatus(exception).ToRpcException();

    /// <summary>Builds <c>google.rpc.Status</c>: ErrorInfo, then BadRequest when fields are bad, then RetryInfo when retryable.</summary>
    public static Status ToStatus(InferenceException exception)
    {
        var status = new Status { Code = (int)exception.Code, Message = exception.Message };
        var errorInfo = new ErrorInfo { Reason = ErrorReasons.ToWire(exception.Reason), Domain = ErrorReasons.Domain };
        foreach (var (key, value) in exception.Metadata)
        {
            errorInfo.Metadata[key] = value;
        }
        status.Details.Add(Any.Pack(errorInfo));
        if (exception.FieldViolations.Count > 0)
        {
            status.Details.Add(Any.Pack(new BadRequest { FieldViolations = { exception.FieldViolations } }));
        }
        if (exception.RetryAfter is { } delay)
        {
            status.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(delay) }));
        }
        return status;
    }

    /// <summary>
    /// Model code does not know the request's field path; when the service attached one (<see cref="InputRejectedException.WithField"/>)
    /// it becomes the field violation, otherwise the violation names no field (the request as a whole).
    /// </summary>
    private static InferenceException FromInputRejection(InputRejectedException rejected)
    {
        var reason = rejected.Kind switch
        {
            InputRejection.UnsupportedImageFormat => ErrorReason.UnsupportedImageFormat,
            InputRejection.ImageTooLarge => ErrorReason.ImageTooLarge,
            InputRejection.PromptTooLong => ErrorReason.PromptTooLong,
            _ => ErrorReason.InvalidInput,
        };
        return rejected.Field.Length > 0
            ? InferenceException.InvalidArgument(rejected.Field, rejected.Message, reason)
            : new InferenceException(StatusCode.InvalidArgument, reason, rejected.Message,
                fieldViolations: [new BadRequest.Types.FieldViolation { Description = rejected.Message }]);
    }

    private static bool DeadlinePassed(DateTime deadline) => deadline != DateTime.MaxValue && deadline <= DateTime.UtcNow;

    private static RpcException Internal(Exception exception, RpcCallInfo call, ILogger logger)
    {
        CoreLog.UnexpectedException(logger, call.Method, call.TraceId, exception);

        // Exception text can carry paths, prompts or tensor dumps: it goes to the log, never to the client.
        return ToRpcException(new InferenceException(
            StatusCode.Internal, ErrorReason.InternalError, $"Internal error; trace id {call.TraceId}",
            metadata: new Dictionary<string, string> { ["traceId"] = call.TraceId }));
    }
}
