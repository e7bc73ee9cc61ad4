using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Contracts.Common.V1;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Tests.Bench.Fleet;

namespace MultiModal.Tests.Bench.Overload;

/// <summary>
/// <c>make bench-overload</c>: each service through the gateway at 10× what it can serve, one after another, on a
/// fleet started here (built-in models, default queue bounds). Per service, in the same run:
/// <list type="number">
/// <item><b>unloaded</b>: one client, calls one at a time for <see cref="UnloadedTime"/> (after 3 warm-up calls):
/// p50/p99 latency;</item>
/// <item><b>capacity</b>: <c>Saturating</c> clients in a closed loop for <see cref="CapacityTime"/> (enough to keep the
/// service's batch full: CLIP's MaxBatchSize, Vision's MaxBatchSize, Diffusion one running + one waiting): completed
/// calls/s is what it can serve;</item>
/// <item><b>overload</b>: an open loop offering 10 × capacity calls/s for the phase (calls start on schedule whether or
/// not earlier ones ended, so the load does not back off as a closed loop would); every call has a deadline;</item>
/// <item>the phase's calls are awaited to their end (bounded by the deadline + a grace); then one normal call must
/// succeed.</item>
/// </list>
/// RSS of every process is read before and after each service's turn.
/// </summary>
public static class OverloadBench
{
    public const double OverloadFactor = 10;
    public const int MaxCallsPerPhase = 200_000, MaxOutstanding = 20_000;
    private static readonly TimeSpan UnloadedTime = TimeSpan.FromSeconds(10), CapacityTime = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(90), Grace = TimeSpan.FromSeconds(15);

    private sealed record Target(string Service, string Call, int Saturating, Func<DateTime, Task> Invoke);

    public static async Task<int> RunAsync(string modelsFolder, TimeSpan phase, IReadOnlyCollection<string> services)
    {
        Console.WriteLine($"overload: {phase.TotalSeconds:F0} s per service at {OverloadFactor}x the capacity measured in the same run; models {Path.GetFullPath(modelsFolder)}");
        await using var fleet = await BenchFleet.StartAsync(modelsFolder);
        using var sampler = new ProcessSampler(fleet.Processes);
        var jpeg = new Image { Data = ByteString.CopyFrom(ClipBench.SyntheticJpeg(320, 240)), MimeType = "image/jpeg" };
        Target[] targets =
        [
            new("clip", "EmbedImages, 1 JPEG 320x240", 64, d => fleet.Clip.EmbedImagesAsync(new EmbedImagesRequest { Images = { jpeg } }, deadline: d).ResponseAsync),
            new("vision", "DescribeStream, JPEG, 16 tokens greedy", 8, async d =>
            {
                using var call = fleet.Vision.DescribeStream(new DescribeStreamRequest { Images = { jpeg }, MaxTokens = 16, Temperature = 0 }, deadline: d);
                await foreach (var _ in call.ResponseStream.ReadAllAsync()) { }
            }),
            new("diffusion", "GenerateImage, 4 Euler steps, approximate preview each step", 2, async d =>
            {
                using var call = fleet.Diffusion.GenerateImage(new GenerateImageRequest
                {
                    Prompt = "a lighthouse at dusk", Steps = 4, Scheduler = Scheduler.Euler,
                    Preview = new PreviewOptions { EveryNSteps = 1, Kind = PreviewKind.Approximate },
                }, deadline: d);
                await foreach (var _ in call.ResponseStream.ReadAllAsync()) { }
            }),
        ];

        var rows = new List<string>();
        var failed = false;
        foreach (var target in targets.Where(t => services.Contains(t.Service)))
        {
            Console.WriteLine($"\n== {target.Service}: {target.Call}");
            var rssBefore = await RssAsync(sampler);
            for (var i = 0; i < 3; i++)
                await target.Invoke(DateTime.UtcNow + CallDeadline);

            var unloaded = new CallOutcomes();
            await ClosedLoopAsync(target, unloaded, clients: 1, UnloadedTime);
            var capacityOutcomes = new CallOutcomes();
            var capacityWatch = Stopwatch.StartNew();
            await ClosedLoopAsync(target, capacityOutcomes, target.Saturating, CapacityTime);
            var capacity = capacityOutcomes.Ok / capacityWatch.Elapsed.TotalSeconds;
            var rate = OverloadFactor * capacity;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"unloaded p50 {unloaded.Percentile(0.5):F0} ms p99 {unloaded.Percentile(0.99):F0} ms ({unloaded.Ok} calls); capacity {capacity:F2} calls/s with {target.Saturating} clients; offering {rate:F1} calls/s for {phase.TotalSeconds:F0} s"));

            var loaded = new CallOutcomes();
            var (offered, notSent, hung) = await OpenLoopAsync(target, loaded, rate, phase);
            var recovered = await RecoversAsync(target);
            var rssAfter = await RssAsync(sampler);

            var ratio50 = loaded.Percentile(0.5) / unloaded.Percentile(0.5);
            var ratio99 = loaded.Percentile(0.99) / unloaded.Percentile(0.99);
            var ok = hung == 0 && loaded.ShedWithoutRetryInfo == 0 && loaded.Other == 0 && recovered && notSent == 0;
            failed |= !ok;
            foreach (var example in loaded.OtherExamples)
                Console.WriteLine($"  other status: {example}");
            if (loaded.Other > 0)
                foreach (var name in (string[])["gateway", target.Service])
                    foreach (var line in fleet[name].Process.Output.Split('\n').Where(l => l.Contains("warn:") || l.Contains("fail:")).TakeLast(5))
                        Console.WriteLine($"  [{name}] {line.TrimEnd()}");
            rows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {target.Service} | {unloaded.Percentile(0.5):F0} / {unloaded.Percentile(0.99):F0} ms | {capacity:F2}/s ({target.Saturating} clients) | {rate:F1}/s: {offered} | " +
                $"{loaded.Ok} | {loaded.ShedWithRetryInfo} / {loaded.ShedWithoutRetryInfo} | {loaded.DeadlineExceeded} | {loaded.Other} | {hung} | " +
                $"{loaded.Percentile(0.5):F0} / {loaded.Percentile(0.99):F0} ms | {ratio50:F1}× / {ratio99:F1}× | " +
                $"{Mib(rssBefore, target.Service)} → {Mib(rssAfter, target.Service)}; gateway {Mib(rssBefore, "gateway")} → {Mib(rssAfter, "gateway")} | {(recovered ? "OK" : "FAILED")} |"));
            Console.WriteLine(rows[^1]);
        }

        Console.WriteLine();
        Console.WriteLine("| service | unloaded p50 / p99 | capacity (closed loop) | offered rate: calls | accepted (OK) | shed RESOURCE_EXHAUSTED with / without RetryInfo | DEADLINE_EXCEEDED | other status | no final status | accepted p50 / p99 under overload | ratio to unloaded p50 / p99 | RSS before → after (MiB) | normal call afterwards |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        rows.ForEach(Console.WriteLine);
        Console.WriteLine(failed ? "OVERLOAD: FAIL" : "OVERLOAD: PASS");
        return failed ? 1 : 0;
    }

    private static async Task ClosedLoopAsync(Target target, CallOutcomes outcomes, int clients, TimeSpan time)
    {
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            await Task.Yield();
            for (var i = 0; i < MaxCallsPerPhase && watch.Elapsed < time; i++)
                await outcomes.RunAsync(() => target.Invoke(DateTime.UtcNow + CallDeadline));
        }));
    }

    /// <summary>Starts calls at <paramref name="rate"/>/s for <paramref name="time"/>; returns (started, skipped at the client's cap, never ended).</summary>
    private static async Task<(long Offered, long NotSent, long Hung)> OpenLoopAsync(Target target, CallOutcomes outcomes, double rate, TimeSpan time)
    {
        var calls = new List<Task>();
        long notSent = 0;
        var watch = Stopwatch.StartNew();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(5));
        while (watch.Elapsed < time && calls.Count + notSent < MaxCallsPerPhase)
        {
            var due = Math.Min((long)(watch.Elapsed.TotalSeconds * rate) + 1, MaxCallsPerPhase);
            while (calls.Count + notSent < due)
            {
                if (outcomes.Started - outcomes.Ended >= MaxOutstanding)
                    notSent++;
                else
                    calls.Add(outcomes.RunAsync(() => target.Invoke(DateTime.UtcNow + CallDeadline)));
            }
            await tick.WaitForNextTickAsync();
        }
        // Every call carries CallDeadline: give them that plus a grace, then count what never ended.
        await Task.WhenAny(Task.WhenAll(calls), Task.Delay(CallDeadline + Grace));
        return (calls.Count, notSent, outcomes.Started - outcomes.Ended);
    }

    private static async Task<bool> RecoversAsync(Target target)
    {
        try
        {
            await target.Invoke(DateTime.UtcNow + CallDeadline);
            return true;
        }
        catch (RpcException e)
        {
            Console.WriteLine($"  the normal call afterwards failed: {e.StatusCode} {e.Status.Detail}");
            return false;
        }
    }

    private static async Task<IReadOnlyList<ProcessSample>> RssAsync(ProcessSampler sampler) => await sampler.SampleAsync(0);

    private static string Mib(IReadOnlyList<ProcessSample> samples, string process) =>
        (samples.Single(s => s.Process == process).RssBytes >> 20).ToString(CultureInfo.InvariantCulture);
}
