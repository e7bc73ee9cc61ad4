using System.Diagnostics;

namespace MultiModal.Core.Inference.Jobs;

/// <summary>
/// Server-clock times for <see cref="Stopwatch"/> timestamps: the UTC time at process start plus the monotonic time
/// since, so two times from this process are ordered as the events were, even if the wall clock is adjusted meanwhile.
/// </summary>
public static class MonotonicClock
{
    private static readonly DateTime StartUtc = DateTime.UtcNow;
    private static readonly long StartTimestamp = Stopwatch.GetTimestamp();

    public static DateTime ToUtc(long stopwatchTimestamp) => StartUtc + Stopwatch.GetElapsedTime(StartTimestamp, stopwatchTimestamp);
}
