using System.Diagnostics;
using System.Globalization;
using System.Text;
using MultiModal.Tests.Bench.Fleet;

namespace MultiModal.Tests.Bench.Soak;

/// <summary>
/// <c>make soak MINUTES=N</c>: the fleet on the built-in models under mixed load through the gateway for N minutes,
/// every process sampled every <see cref="SampleEvery"/> (RSS, GC heap, threads, fds) into soak.csv, drawn into
/// soak.png, judged by <see cref="GrowthRule"/>. Exit code 1 when a series grows, a call ended with a status its
/// operation does not allow, or a call never ended.
/// </summary>
public static class SoakBench
{
    public static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(string modelsFolder, TimeSpan duration, string outFolder)
    {
        Directory.CreateDirectory(outFolder);
        var csvPath = Path.Combine(outFolder, "soak.csv");
        Console.WriteLine($"soak: {duration.TotalMinutes:F1} min, models {Path.GetFullPath(modelsFolder)}, output {Path.GetFullPath(outFolder)}");
        await using var fleet = await BenchFleet.StartAsync(modelsFolder);
        using var sampler = new ProcessSampler(fleet.Processes);
        var ledger = new CallLedger();
        var samples = new List<ProcessSample>();
        var clock = Stopwatch.StartNew();

        await using var csv = new StreamWriter(csvPath, append: false);
        await csv.WriteLineAsync("seconds,process,rss_bytes,gc_heap_bytes,threads,handles");
        async Task Sample()
        {
            foreach (var s in await sampler.SampleAsync(Math.Round(clock.Elapsed.TotalSeconds, 1)))
            {
                samples.Add(s);
                await csv.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{s.Seconds},{s.Process},{s.RssBytes},{(double.IsNaN(s.GcHeapBytes) ? "" : s.GcHeapBytes.ToString("F0", CultureInfo.InvariantCulture))},{s.Threads},{s.Handles}"));
            }
            await csv.FlushAsync();
        }

        await Sample();                                                   // t = 0: started, before any load
        using var stop = new CancellationTokenSource(duration);
        var load = new SoakLoad(fleet, ledger).RunAsync(stop.Token);
        using (var timer = new PeriodicTimer(SampleEvery))
        {
            while (!load.IsCompleted && await timer.WaitForNextTickAsync())
            {
                await Sample();
                if (samples.Count / fleet.Processes.Count % 6 == 0)
                    Console.WriteLine($"  {clock.Elapsed.TotalMinutes:F1} min: {ledger.Ended} calls ended, {ledger.Unexpected} unexpected; " +
                        string.Join(", ", samples.TakeLast(fleet.Processes.Count).Select(s => $"{s.Process} {s.RssBytes >> 20} MiB")));
            }
        }
        // The workers stop starting calls at the deadline; each call in flight has its own 120 s deadline.
        var finished = await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(150))) == load;
        await Sample();

        var verdicts = fleet.Processes.SelectMany(p => GrowthRule.Metrics.Select(m => GrowthRule.Judge(p.Name, m,
            samples.Where(s => s.Process == p.Name).Select(s => (s.Seconds, GrowthRule.Value(s, m))).ToList()))).ToList();
        var hung = ledger.Started - ledger.Ended;
        var pass = finished && hung == 0 && ledger.Unexpected == 0 && !verdicts.Any(v => v.Grows);

        var summary = new StringBuilder();
        summary.AppendLine(CultureInfo.InvariantCulture, $"soak {duration.TotalMinutes:F0} min, {samples.Count / fleet.Processes.Count} samples per process every {SampleEvery.TotalSeconds:F0} s");
        summary.AppendLine(CultureInfo.InvariantCulture, $"calls: {ledger.Started} started, {ledger.Ended} ended, {hung} without a final status, {ledger.Unexpected} with a status their operation does not allow");
        foreach (var line in ledger.Report())
            summary.AppendLine("  " + line);
        summary.AppendLine("| process | metric | samples | median after warm-up | trend over the window | 2nd-quarter median | last-quarter median | verdict |");
        summary.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var v in verdicts)
            summary.AppendLine(CultureInfo.InvariantCulture,
                $"| {v.Process} | {v.Metric} | {v.Samples} | {Format(v.Metric, v.Median)} | {Format(v.Metric, v.Trend, signed: true)} | {Format(v.Metric, v.SecondQuarter)} | {Format(v.Metric, v.LastQuarter)} | {v.Why} |");
        summary.AppendLine(pass ? "VERDICT: PASS" : "VERDICT: FAIL");
        Console.Write(summary);
        await File.WriteAllTextAsync(Path.Combine(outFolder, "soak-summary.txt"), summary.ToString());
        SoakPlot.Write(Path.Combine(outFolder, "soak.png"), samples,
            $"soak {duration.TotalMinutes:F0} min through the gateway, sampled every {SampleEvery.TotalSeconds:F0} s; verdict {(pass ? "PASS" : "FAIL")}");
        return pass ? 0 : 1;
    }

    private static string Format(string metric, double v, bool signed = false)
    {
        if (double.IsNaN(v))
            return "-";
        var sign = signed && v >= 0 ? "+" : "";
        return metric is "rss" or "gc_heap"
            ? string.Create(CultureInfo.InvariantCulture, $"{sign}{v / (1 << 20):F1} MiB")
            : string.Create(CultureInfo.InvariantCulture, $"{sign}{v:F1}");
    }
}
