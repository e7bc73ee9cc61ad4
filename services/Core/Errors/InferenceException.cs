using System.Globalization;
using Google.Rpc;
using Grpc.Core;
using MultiModal.Contracts.Common.V1;

namespace MultiModal.Core.Errors;

/// <summary>
/// A failure the client can act on, thrown anywhere inside a service. <see cref="ErrorMapping"/> turns it into a
/// <c>google.rpc.Status</c> with one ErrorInfo (+ BadRequest, + RetryInfo). Anything else becomes INTERNAL.
/// </summary>
public sealed class InferenceException(
    StatusCode code,
    ErrorReason reason,
    string message,
    TimeSpan? retryAfter = null,
    IReadOnlyDictionary<string, string>? metadata = null,
    IReadOnlyList<BadRequest.Types.FieldViolation>? fieldViolations = null) : Exception(message)
{
    /// <summary>The gRPC status code the client receives.</summary>
    public StatusCode Code { get; } = code;

    /// <summary>The machine-readable reason, sent as ErrorInfo.reason.</summary>
    public ErrorReason Reason { get; } = reason;

    /// <summary>When set, the client may retry after this delay (sent as RetryInfo.retry_delay).</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>Sent as ErrorInfo.metadata (lowerCamelCase keys, per AIP-193).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata ?? new Dictionary<string, string>();

    /// <summary>One entry per bad request field (sent as BadRequest.field_violations).</summary>
    public IReadOnlyList<BadRequest.Types.FieldViolation> FieldViolations { get; } = fieldViolations ?? [];

    /// <summary>One bad field: INVALID_ARGUMENT with message "<paramref name="field"/>: <paramref name="description"/>".</summary>
    /// <param name="field">Proto field path, e.g. <c>images[2].data</c>.</param>
    public static InferenceException InvalidArgument(
        string field, string description, ErrorReason reason = ErrorReason.InvalidInput) => new(
        StatusCode.InvalidArgument, reason, $"{field}: {description}",
        fieldViolations: [Violation(field, description)]);

    /// <summary>Several bad fields at once (reason INVALID_INPUT), so the client can fix them in one go.</summary>
    public static InferenceException InvalidArguments(IReadOnlyList<(string field, string description)> violations)
    {
        ArgumentOutOfRangeException.ThrowIfZero(violations.Count, nameof(violations));
        return new(
            StatusCode.InvalidArgument, ErrorReason.InvalidInput,
            string.Join("; ", violations.Select(v => $"{v.field}: {v.description}")),
            fieldViolations: [.. violations.Select(v => Violation(v.field, v.description))]);
    }

    /// <summary>
    /// Load shedding: RESOURCE_EXHAUSTED / QUEUE_FULL with a retry delay jittered in [1, 2) s, so that clients
    /// shed at the same moment do not all come back at the same moment.
    /// </summary>
    public static InferenceException QueueFull(int capacity) => new(
        StatusCode.ResourceExhausted, ErrorReason.QueueFull,
        $"The server is busy ({capacity} requests queued). Retry after a short delay.",
        retryAfter: TimeSpan.FromMilliseconds(1000 + Random.Shared.Next(1000)),
        metadata: new Dictionary<string, string> { ["queueLength"] = capacity.ToString(CultureInfo.InvariantCulture) });

    /// <summary>The deadline passed while the request waited, or leaves no time to start (DEADLINE_EXCEEDED).</summary>
    public static InferenceException DeadlineTooShort() => new(
        StatusCode.DeadlineExceeded, ErrorReason.DeadlineTooShort,
        "The deadline passed before the request could be processed.");

    /// <summary>The model is still loading or its queue has shut down (UNAVAILABLE; safe to retry elsewhere).</summary>
    public static InferenceException ModelNotReady() => new(
        StatusCode.Unavailable, ErrorReason.ModelNotReady,
        "The model is not ready (loading or shutting down). Retry shortly.",
        retryAfter: TimeSpan.FromSeconds(2));

    /// <summary>
    /// The server is draining (SIGTERM): a new call, or a request that had not started, is refused with UNAVAILABLE /
    /// DRAINING so that the client (or the gateway) retries it on another replica at once.
    /// </summary>
    /// <param name="drainTime">The drain time the server allows running calls, sent as ErrorInfo metadata <c>drainSeconds</c>.</param>
    public static InferenceException Draining(TimeSpan drainTime) => new(
        StatusCode.Unavailable, ErrorReason.Draining,
        "The server is shutting down and takes no new work. Retry; another replica will serve the request.",
        retryAfter: TimeSpan.FromSeconds(1), metadata: DrainMetadata(drainTime));

    /// <summary>
    /// A call still running when the drain time ran out: cancelled with UNAVAILABLE / DRAINING (retryable, as the
    /// work is not done), not CANCELLED, which clients read as their own cancellation and do not retry.
    /// </summary>
    public static InferenceException DrainTimeRanOut(TimeSpan drainTime) => new(
        StatusCode.Unavailable, ErrorReason.Draining,
        string.Create(CultureInfo.InvariantCulture,
            $"The server shut down before the call finished: its drain time ({drainTime.TotalSeconds:0.###} s) ran out. Retry; another replica will serve the request."),
        retryAfter: TimeSpan.FromSeconds(1), metadata: DrainMetadata(drainTime));

    private static Dictionary<string, string> DrainMetadata(TimeSpan drainTime) =>
        new() { ["drainSeconds"] = drainTime.TotalSeconds.ToString(CultureInfo.InvariantCulture) };

    /// <summary>A remote backend failed; <paramref name="code"/> is what it answered (or UNAVAILABLE when unreachable).</summary>
    public static InferenceException Upstream(StatusCode code, string message) =>
        new(code, ErrorReason.UpstreamError, message);

    private static BadRequest.Types.FieldViolation Violation(string field, string description) =>
        new() { Field = field, Description = description };
}
