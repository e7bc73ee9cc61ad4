using System.Diagnostics;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Unit.Testing;

public class ThreadCpuTimeTests
{
    [Fact]
    public void Measure_BusyMillisecond_ReadsAboveZeroAndNoMoreThanItsWallTime()
    {
        // getrusage(RUSAGE_THREAD) read 0.004 ms for such a loop on a tick-sampled kernel; the thread clock must not.
        var wall = Stopwatch.StartNew();
        var cpu = ThreadCpuTime.Measure(() =>
        {
            var spin = Stopwatch.StartNew();
            while (spin.Elapsed < TimeSpan.FromMilliseconds(1)) { }
        });
        wall.Stop();

        Assert.True(cpu > TimeSpan.Zero, "a busy millisecond read zero CPU time");
        Assert.True(cpu <= wall.Elapsed, $"CPU {cpu.TotalMilliseconds:F3} ms exceeds wall {wall.Elapsed.TotalMilliseconds:F3} ms");
    }
}
