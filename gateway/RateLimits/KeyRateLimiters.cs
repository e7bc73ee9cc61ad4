using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using MultiModal.Gateway.ApiKeys;

namespace MultiModal.Gateway.RateLimits;

/// <summary>
/// One token bucket (calls per second, weighted by method) and one concurrency limiter (open calls) per key name.
/// A reload that changes a key's limits replaces its limiters; one that keeps them keeps their state.
/// </summary>
public sealed class KeyRateLimiters : IDisposable
{
    private readonly ConcurrentDictionary<string, KeyLimiters> _byName = new(StringComparer.Ordinal);

    /// <summary>The limiters of <paramref name="key"/>, created on its first call.</summary>
    public KeyLimiters For(ApiKey key)
    {
        while (true)
        {
            var limiters = _byName.GetOrAdd(key.Name, static (_, limits) => new KeyLimiters(limits), key.Limits);
            if (limiters.Limits == key.Limits)
                return limiters;
            // The key's limits changed in a reload: start it afresh (a full bucket) under its new limits.
            if (_byName.TryUpdate(key.Name, new KeyLimiters(key.Limits), limiters))
                limiters.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var limiters in _byName.Values)
            limiters.Dispose();
    }
}

/// <summary>A key's two limiters; either is null when its limit is 0 (off).</summary>
public sealed class KeyLimiters : IDisposable
{
    public KeyLimiters(KeyLimits limits)
    {
        Limits = limits;
        if (limits.RequestsPerSecond > 0)
        {
            // Refill one token at a time for slow rates (5/s: one every 200 ms), in 10 ms steps for fast ones.
            var (period, tokens) = limits.RequestsPerSecond <= 100
                ? (TimeSpan.FromSeconds(1 / limits.RequestsPerSecond), 1)
                : (TimeSpan.FromMilliseconds(10), (int)Math.Round(limits.RequestsPerSecond / 100));
            Rate = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = limits.Burst,
                TokensPerPeriod = tokens,
                ReplenishmentPeriod = period,
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        }
        if (limits.MaxConcurrent > 0)
            Concurrency = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = limits.MaxConcurrent, QueueLimit = 0 });
    }

    public KeyLimits Limits { get; }

    public TokenBucketRateLimiter? Rate { get; }

    public ConcurrencyLimiter? Concurrency { get; }

    /// <summary>
    /// Takes <paramref name="weight"/> tokens (at most a full bucket, so a heavy call can still pass when the bucket
    /// is full). Null when the rate is off.
    /// </summary>
    public RateLimitLease? AcquireRate(int weight) =>
        Rate?.AttemptAcquire(Math.Clamp(weight, 1, Limits.Burst));

    /// <summary>One open-call slot, held until the lease is disposed. Null when the limit is off.</summary>
    public RateLimitLease? AcquireSlot() => Concurrency?.AttemptAcquire();

    public void Dispose()
    {
        Rate?.Dispose();
        Concurrency?.Dispose();
    }
}
