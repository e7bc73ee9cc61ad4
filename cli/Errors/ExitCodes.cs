using Grpc.Core;

namespace MultiModal.Cli.Errors;

/// <summary>
/// <c>mm</c>'s exit codes, one per class of failure, so scripts can tell "fix the input" from "try again later".
/// Documented in the README (section "mm").
/// </summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>The server failed (INTERNAL, UNKNOWN, DATA_LOSS, UNIMPLEMENTED) or something unexpected happened.</summary>
    public const int Failed = 1;

    /// <summary>A bad command line or local input (a missing or unreadable file): nothing was sent.</summary>
    public const int Usage = 2;

    /// <summary>The server refused the request as given (INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE, NOT_FOUND).</summary>
    public const int Rejected = 3;

    /// <summary>No or a wrong API key (UNAUTHENTICATED, PERMISSION_DENIED).</summary>
    public const int Unauthorized = 4;

    /// <summary>Busy: a queue is full or the key's rate is spent (RESOURCE_EXHAUSTED, ABORTED); retry later.</summary>
    public const int Busy = 5;

    /// <summary>The gateway or the service could not be reached or did not answer in time (UNAVAILABLE, DEADLINE_EXCEEDED).</summary>
    public const int Unavailable = 6;

    /// <summary>Ctrl-C (128 + SIGINT): the call, and so the server's job, was cancelled.</summary>
    public const int Interrupted = 130;

    public const string Summary = "0 ok, 1 server failure, 2 usage, 3 rejected request, 4 unauthorized, 5 busy, 6 unavailable, 130 interrupted";

    public static int For(StatusCode code) => code switch
    {
        StatusCode.OK => Ok,
        StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange or StatusCode.NotFound
            or StatusCode.AlreadyExists => Rejected,
        StatusCode.Unauthenticated or StatusCode.PermissionDenied => Unauthorized,
        StatusCode.ResourceExhausted or StatusCode.Aborted => Busy,
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => Unavailable,
        StatusCode.Cancelled => Interrupted,
        _ => Failed,
    };
}
