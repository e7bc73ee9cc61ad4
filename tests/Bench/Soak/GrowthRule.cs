using MultiModal.Tests.Bench.Fleet;

namespace MultiModal.Tests.Bench.Soak;

/// <summary>
/// Decides whether a sampled series (one process's RSS, GC heap, threads or handles over the soak) grows without
/// bound. A series fails only when all three hold:
/// <list type="number">
/// <item><b>trend</b>: after a warm-up of the first <see cref="WarmUpFraction"/> of the samples (JIT, pools, caches,
/// the allocator settling), a least-squares line through the rest, extrapolated over that window, rises by more than
/// <see cref="MaxTrendFraction"/> of the window's median;</item>
/// <item><b>still rising at the end</b>: the median of the last quarter of the samples exceeds the median of the second
/// quarter by more than <see cref="MaxQuarterRise"/> (a one-off step or an early plateau makes a slope but not this);</item>
/// <item><b>material</b>: that rise is at least the series' absolute floor (<see cref="Floor"/>), so a thread pool
/// growing from 30 to 33 threads or the GC heap breathing by a megabyte is not called a leak.</item>
/// </list>
/// </summary>
public static class GrowthRule
{
    public const double WarmUpFraction = 0.2, MaxTrendFraction = 0.10, MaxQuarterRise = 0.05;

    public static readonly string[] Metrics = ["rss", "gc_heap", "threads", "handles"];

    /// <summary>The smallest last-vs-second-quarter rise that can count as a leak, per metric, in its unit.</summary>
    public static double Floor(string metric) => metric switch
    {
        "rss" => 16 << 20,
        "gc_heap" => 8 << 20,
        "threads" => 8,
        "handles" => 16,
        _ => throw new ArgumentOutOfRangeException(nameof(metric)),
    };

    public static double Value(ProcessSample s, string metric) => metric switch
    {
        "rss" => s.RssBytes,
        "gc_heap" => s.GcHeapBytes,
        "threads" => s.Threads,
        "handles" => s.Handles,
        _ => throw new ArgumentOutOfRangeException(nameof(metric)),
    };

    /// <summary>The verdict on one series of (seconds, value) points in time order; NaN values are left out.</summary>
    public static Verdict Judge(string process, string metric, IReadOnlyList<(double Seconds, double Value)> series)
    {
        var points = series.Where(p => !double.IsNaN(p.Value)).ToList();
        if (points.Count < 8)
            return new Verdict(process, metric, points.Count, double.NaN, double.NaN, double.NaN, double.NaN, Grows: false, "too few samples to judge");
        var rest = points.Skip((int)Math.Ceiling(points.Count * WarmUpFraction)).ToList();
        var median = Median(rest.Select(p => p.Value));
        var slope = Slope(rest);
        var trend = slope * (rest[^1].Seconds - rest[0].Seconds);
        var quarter = points.Count / 4;
        var q2 = Median(points.Skip(quarter).Take(quarter).Select(p => p.Value));
        var q4 = Median(points.Skip(points.Count - quarter).Select(p => p.Value));

        var trendHigh = trend > MaxTrendFraction * median;
        var stillRising = q4 > q2 * (1 + MaxQuarterRise);
        var material = q4 - q2 >= Floor(metric);
        var grows = trendHigh && stillRising && material;
        var why = grows ? "GROWS" : !trendHigh ? "flat trend" : !stillRising ? "not rising at the end" : "rise below the floor";
        return new Verdict(process, metric, points.Count, median, trend, q2, q4, grows, why);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static double Slope(IReadOnlyList<(double Seconds, double Value)> points)
    {
        var mx = points.Average(p => p.Seconds);
        var my = points.Average(p => p.Value);
        var sxx = points.Sum(p => (p.Seconds - mx) * (p.Seconds - mx));
        return sxx == 0 ? 0 : points.Sum(p => (p.Seconds - mx) * (p.Value - my)) / sxx;
    }
}

/// <param name="Trend">Slope × post-warm-up window, in the metric's unit.</param>
/// <param name="SecondQuarter">Median of the second quarter of the samples.</param>
/// <param name="LastQuarter">Median of the last quarter.</param>
public sealed record Verdict(string Process, string Metric, int Samples, double Median, double Trend,
    double SecondQuarter, double LastQuarter, bool Grows, string Why);
