using System.Runtime.InteropServices;

namespace MultiModal.Tests.Testing;

/// <summary>
/// CPU time used by the calling thread (clock_gettime CLOCK_THREAD_CPUTIME_ID, nanoseconds): unlike wall-clock time it
/// does not grow when other processes or parallel tests compete for the cores, so a test can compare the work two calls
/// on one thread did (a ratio, which is also independent of the CPU's speed) on a loaded machine.
/// Not getrusage(RUSAGE_THREAD): on tick-sampled kernels its user/system split is scaled from timer ticks, and a
/// 1 ms loop read 0.004-0.9 ms, so a short measurement could read zero (a CI run divided 0.0 by 0.00 ms).
/// </summary>
public static class ThreadCpuTime
{
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>CPU time of this OS thread so far.</summary>
    public static TimeSpan Now()
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("per-thread CPU time is read with Linux's CLOCK_THREAD_CPUTIME_ID");
        if (ClockGetTime(ClockThreadCpuTimeId, out var time) != 0)
            throw new InvalidOperationException($"clock_gettime failed: errno {Marshal.GetLastWin32Error()}");
        return TimeSpan.FromTicks(time.Seconds * TimeSpan.TicksPerSecond + time.Nanoseconds / 100);
    }

    /// <summary>The CPU time <paramref name="action"/> took on this thread; never zero for work that ran.</summary>
    public static TimeSpan Measure(Action action)
    {
        var start = Now();
        action();
        return Now() - start;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds, Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    private static extern int ClockGetTime(int clock, out TimeSpec time);
}
