using MultiModal.Gateway.RateLimits;

namespace MultiModal.Gateway.ApiKeys;

/// <summary>A loaded key: its name, the SHA-256 of the key (32 bytes) and its effective limits.</summary>
public sealed record ApiKey(string Name, byte[] Hash, KeyLimits Limits);

/// <summary>What the presented credentials amount to.</summary>
public enum ApiKeyCheck
{
    /// <summary>No keys are configured: every call passes, as "anonymous", without limits.</summary>
    Off,
    /// <summary>Neither <c>authorization: Bearer</c> nor <c>x-api-key</c> was sent.</summary>
    Missing,
    /// <summary>A key was sent but matches none.</summary>
    Invalid,
    /// <summary>The key matches a configured one.</summary>
    Valid,
}
