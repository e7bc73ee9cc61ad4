namespace MultiModal.Gateway.RateLimits;

/// <summary><c>Gateway:RateLimits</c>: the limits of a key that sets none of its own. Zero switches a limit off.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Sustained calls (tokens) per second.</summary>
    public double RequestsPerSecond { get; set; } = 50;

    /// <summary>Tokens in a full bucket.</summary>
    public int Burst { get; set; } = 100;

    /// <summary>Calls open at once; a stream holds its slot until it ends.</summary>
    public int MaxConcurrent { get; set; } = 32;
}

/// <summary>A key's effective limits (a record, so a reload that changes them is noticed by equality).</summary>
public sealed record KeyLimits(double RequestsPerSecond, int Burst, int MaxConcurrent);
