using MultiModal.Gateway.ApiKeys;
using MultiModal.Gateway.RateLimits;

namespace MultiModal.Gateway.FrontDoor;

/// <summary>
/// The front door's part of the <c>Gateway</c> section: API keys, per-key limits, method weights, request size.
/// Bound to the same section as <see cref="GatewayOptions"/> (one place for the gateway's configuration).
/// </summary>
/// <remarks>
/// Keys: <c>Gateway:ApiKeysFile</c> (JSON <c>{"keys":[{"name","sha256","requestsPerSecond","burst","maxConcurrent"}]}</c>,
/// reloaded on change), <c>Gateway:ApiKeys:&lt;i&gt;:Name|Sha256|...</c> (inline), <c>Gateway:RateLimits</c> (defaults
/// for keys that set none), <c>Gateway:MethodWeights:&lt;method or prefix*&gt;</c> (tokens a call takes; default 1),
/// <c>Gateway:MaxRequestBodyBytes</c>. Keys are required only when a keys file or at least one inline key is set.
/// </remarks>
public sealed class FrontDoorOptions
{
    /// <summary>64 MiB of message plus slack for framing: the services' own gRPC limit is 64 MiB per message.</summary>
    public const long DefaultMaxRequestBodyBytes = 65L * 1024 * 1024;

    /// <summary>Path of the keys file (a mounted Secret in Kubernetes). Unset: only inline keys.</summary>
    public string? ApiKeysFile { get; set; }

    /// <summary>Keys given in configuration itself (same fields as the file's entries).</summary>
    public List<ApiKeyEntry> ApiKeys { get; set; } = [];

    /// <summary>Limits of a key that sets none of its own.</summary>
    public RateLimitOptions RateLimits { get; set; } = new();

    /// <summary>Tokens a call takes from its key's bucket, by method name (<c>GenerateImage</c>) or prefix (<c>Describe*</c>).</summary>
    public Dictionary<string, int> MethodWeights { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Largest request body the gateway forwards (gRPC: RESOURCE_EXHAUSTED beyond it; REST: 413).</summary>
    public long MaxRequestBodyBytes { get; set; } = DefaultMaxRequestBodyBytes;
}
