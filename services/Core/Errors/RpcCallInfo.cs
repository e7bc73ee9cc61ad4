namespace MultiModal.Core.Errors;

/// <summary>What <see cref="ErrorMapping"/> needs to know about the failed call (kept apart from ServerCallContext so
/// the mapping is testable without a server).</summary>
/// <param name="Method">Full gRPC method name, for the log.</param>
/// <param name="Deadline">The call's deadline in UTC; <see cref="DateTime.MaxValue"/> when none.</param>
/// <param name="CancellationToken">The call's token (cancelled when the client goes away or the deadline passes).</param>
/// <param name="TraceId">Correlates the client's INTERNAL error with the server log line.</param>
public readonly record struct RpcCallInfo(string Method, DateTime Deadline, CancellationToken CancellationToken, string TraceId);
