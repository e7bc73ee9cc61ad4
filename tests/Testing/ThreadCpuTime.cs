using System.Runtime.InteropServices;

namespace MultiModal.Tests.Testing;

/// <summary>
/// CPU time used by the calling thread (getrusage RUSAGE_THREAD, microseconds): unlike wall-clock time it does not
/// grow when other processes or parallel tests compete for the cores, so a test can compare the work two calls on
/// one thread did (a ratio, which is also independent of the CPU's speed) on a loaded machine.
/// </summary>
public static class ThreadCpuTime
{
    private const int RusageThread = 1;

    /// <summary>User + system CPU time of this OS thread so far.</summary>
    public static TimeSpan Now()
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("per-thread CPU time is read with Linux's RUSAGE_THREAD");
        if (GetRusage(RusageThread, out var usage) != 0)
            throw new InvalidOperationException($"getrusage failed: errno {Marshal.GetLastWin32Error()}");
        var micros = (usage.UserSeconds + usage.SystemSeconds) * 1_000_000 + usage.UserMicros + usage.SystemMicros;
        return TimeSpan.FromTicks(micros * 10);
    }

    /// <summary>The CPU time <paramref name="action"/> took on this thread.</summary>
    public static TimeSpan Measure(Action action)
    {
        var start = Now();
        action();
        return Now() - start;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Rusage
    {
        public long UserSeconds, UserMicros, SystemSeconds, SystemMicros;
        public long MaxRss, IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NvCsw, NivCsw;
    }

    [DllImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    private static extern int GetRusage(int who, out Rusage usage);
}
