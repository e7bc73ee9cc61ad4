using System.Globalization;
using System.Text.RegularExpressions;

namespace MultiModal.Tests.Bench.Fleet;

/// <summary>One reading of one process: resident memory, managed heap, threads and open handles.</summary>
/// <param name="Seconds">Since the run started.</param>
/// <param name="Process">The fleet process's name (clip, vision, diffusion, gateway).</param>
/// <param name="RssBytes">VmRSS from /proc/&lt;pid&gt;/status.</param>
/// <param name="GcHeapBytes">
/// The GC heap after the last collection, all generations (the runtime's <c>dotnet.gc.last_collection.heap.size</c>
/// metric from the process's Prometheus endpoint); NaN before its first collection or when the scrape failed.
/// </param>
/// <param name="Threads">Threads from /proc/&lt;pid&gt;/status.</param>
/// <param name="Handles">Open file descriptors: entries of /proc/&lt;pid&gt;/fd (sockets, files, pipes, eventfds).</param>
public sealed record ProcessSample(double Seconds, string Process, long RssBytes, double GcHeapBytes, int Threads, int Handles);

/// <summary>Reads <see cref="ProcessSample"/>s from /proc (Linux) and each process's Prometheus endpoint.</summary>
public sealed partial class ProcessSampler(IReadOnlyList<FleetProcess> processes) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>One sample of every process, at <paramref name="seconds"/> into the run.</summary>
    public async Task<IReadOnlyList<ProcessSample>> SampleAsync(double seconds)
    {
        var samples = new List<ProcessSample>();
        foreach (var p in processes)
        {
            var pid = p.Process.ProcessId;
            var status = await File.ReadAllTextAsync($"/proc/{pid}/status");
            var rss = long.Parse(Field(status, "VmRSS"), CultureInfo.InvariantCulture) * 1024;
            var threads = int.Parse(Field(status, "Threads"), CultureInfo.InvariantCulture);
            var handles = Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
            samples.Add(new ProcessSample(seconds, p.Name, rss, await GcHeapAsync(p.MetricsPort), threads, handles));
        }
        return samples;
    }

    // "VmRSS:\t  123456 kB" -> "123456"
    private static string Field(string status, string name)
    {
        var match = Regex.Match(status, $@"^{name}:\s+(\d+)", RegexOptions.Multiline);
        return match.Success ? match.Groups[1].Value : throw new InvalidDataException($"no {name} in /proc status");
    }

    private async Task<double> GcHeapAsync(int port)
    {
        string text;
        try
        {
            text = await _http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return double.NaN;
        }
        var matches = HeapLine().Matches(text);
        return matches.Count == 0 ? double.NaN
            : matches.Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));
    }

    public void Dispose() => _http.Dispose();

    // One line per generation (gen0, gen1, gen2, loh, poh); their sum is the heap after the last collection.
    [GeneratedRegex(@"^dotnet_gc_last_collection_heap_size_bytes\{[^}]*\}\s+(?<value>[0-9.eE+-]+)", RegexOptions.Multiline)]
    private static partial Regex HeapLine();
}
