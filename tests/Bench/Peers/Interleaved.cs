using System.Diagnostics;

namespace MultiModal.Tests.Bench.Peers;

/// <summary>Seconds per call of two runtimes on one case, measured in one process: warm-ups of each first, then
/// rounds that alternate which side goes first (ORT, ours | ours, ORT | ...), so drift in the machine's load falls on
/// both sides alike. Each timed call follows an untimed call of the same side: on 2 vCPUs ONNX Runtime's intra-op
/// threads keep spinning for a while after a run, and a call that starts then loses a core (measured 2026-12-06: our
/// CLIP image b1 took 75–91 ms right after an ORT call, 53–56 ms after one of ours). Medians per side.</summary>
public sealed record Interleaved(IReadOnlyList<double> OrtSeconds, IReadOnlyList<double> OursSeconds)
{
    public double OrtMedian => Median(OrtSeconds);
    public double OursMedian => Median(OursSeconds);

    /// <summary>ours / ORT time: below 1 means this project is faster.</summary>
    public double Ratio => OursMedian / OrtMedian;

    public static Interleaved Measure(Action ort, Action ours, int warmups, int rounds)
    {
        for (var i = 0; i < warmups; i++)
        {
            ort();
            ours();
        }
        var o = new List<double>(rounds);
        var u = new List<double>(rounds);
        for (var r = 0; r < rounds; r++)
        {
            if (r % 2 == 0)
            {
                o.Add(Settled(ort));
                u.Add(Settled(ours));
            }
            else
            {
                u.Add(Settled(ours));
                o.Add(Settled(ort));
            }
        }
        return new Interleaved(o, u);
    }

    private static double Settled(Action a)
    {
        a();
        return Time(a);
    }

    private static double Time(Action a)
    {
        var clock = Stopwatch.StartNew();
        a();
        return clock.Elapsed.TotalSeconds;
    }

    internal static double Median(IReadOnlyList<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
