namespace MultiModal.Gateway.Retry;

/// <summary>
/// The <c>Gateway:Retry</c> configuration section: retrying unary calls that failed at a replica before it answered.
/// </summary>
public sealed class RetryOptions
{
    public const string SectionName = "Gateway:Retry";

    /// <summary>Retry unary calls once on another replica (default true).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The largest unary request body the gateway holds in memory so it can send it again (default 4 MiB). A larger
    /// body is streamed to the replica as usual and its call is not retried.
    /// </summary>
    public int MaxBufferedRequestBytes { get; set; } = 4 << 20;

    /// <summary>
    /// Failed active probes in a row (<c>GET /healthz</c> not 200) before the <c>ProbeRestores</c> policy takes a
    /// destination out of rotation (default 2: one slow probe on a busy node is not an outage).
    /// </summary>
    public int ProbeFailureThreshold { get; set; } = 2;

    /// <summary>Start-up validation of the section.</summary>
    internal static IEnumerable<string> Validate(RetryOptions options)
    {
        if (options.MaxBufferedRequestBytes is < 0 or > 64 << 20)
            yield return $"{SectionName}:MaxBufferedRequestBytes must be between 0 (never retry) and 67108864 (64 MiB); got {options.MaxBufferedRequestBytes}.";
        if (options.ProbeFailureThreshold < 1)
            yield return $"{SectionName}:ProbeFailureThreshold must be at least 1; got {options.ProbeFailureThreshold}.";
    }
}
