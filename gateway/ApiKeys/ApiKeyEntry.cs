namespace MultiModal.Gateway.ApiKeys;

/// <summary>One key as configured: its name, the hex SHA-256 of the key, and optional limits of its own.</summary>
public sealed class ApiKeyEntry
{
    /// <summary>Shown in logs and metrics instead of the key.</summary>
    public string Name { get; set; } = "";

    /// <summary>Hex SHA-256 of the key's UTF-8 bytes (64 hex digits), e.g. <c>printf %s "$KEY" | sha256sum</c>.</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>Sustained calls per second (token bucket refill); unset: <c>Gateway:RateLimits:RequestsPerSecond</c>.</summary>
    public double? RequestsPerSecond { get; set; }

    /// <summary>Bucket size (calls at once after a quiet spell); unset: <c>Gateway:RateLimits:Burst</c>.</summary>
    public int? Burst { get; set; }

    /// <summary>Calls open at once (a stream counts until it ends); unset: <c>Gateway:RateLimits:MaxConcurrent</c>.</summary>
    public int? MaxConcurrent { get; set; }
}

/// <summary>The keys file: <c>{"keys": [ ... ]}</c>.</summary>
public sealed class ApiKeysFileContent
{
    public List<ApiKeyEntry> Keys { get; set; } = [];
}
