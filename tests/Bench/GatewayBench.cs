using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using MultiModal.Tests.Bench.Peers;
using MultiModal.Tests.Testing;
using ClipV1 = MultiModal.Contracts.Clip.V1;

namespace MultiModal.Tests.Bench;

/// <summary>
/// <c>make bench-gateway</c>: what the gateway costs a small unary call. One CLIP service on the built-in model, and
/// two gateways in front of it (API keys off; keys on, with limits high enough never to refuse, so the key check
/// and both limiters run on every call). EmbedTexts of one short text, direct vs through each gateway, at 1 and 64
/// concurrent clients (one HTTP/2 connection per path, as a gRPC client has), in interleaved rounds (the path order
/// rotates every round) so drift on a shared machine hits every path alike. Prints p50/p99 latency, throughput, and
/// the ratios to direct.
/// </summary>
public static class GatewayBench
{
    private const string Key = "bench-key";

    public static async Task<int> RunAsync(string clipModel, int rounds, TimeSpan window)
    {
        Console.WriteLine(MachineHeader.Read());
        Console.WriteLine($"gateway bench: EmbedTexts(1 short text), {rounds} interleaved rounds x {window.TotalSeconds:0.#} s per path and concurrency");

        var keysDir = Directory.CreateTempSubdirectory("bench-gateway-keys-");
        var keysFile = Path.Combine(keysDir.FullName, "keys.json");
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key)));
        File.WriteAllText(keysFile, $$"""{"keys":[{"name":"bench","sha256":"{{hash}}","requestsPerSecond":1000000,"burst":1000000,"maxConcurrent":100000}]}""");

        using var clip = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Clip", "Clip"),
            [$"--Clip:ModelPath={Path.GetFullPath(clipModel)}"], startTimeout: TimeSpan.FromMinutes(3));
        using var keysOff = await GatewayFleet.StartGatewayAsync("clip", clip.Address);
        using var keysOn = await GatewayFleet.StartGatewayAsync("clip", clip.Address, [$"--Gateway:ApiKeysFile={keysFile}"]);

        var keyed = new Metadata { { "authorization", $"Bearer {Key}" } };
        Route[] paths =
        [
            new("direct", GrpcChannel.ForAddress(clip.Address), null),
            new("gateway, keys off", GrpcChannel.ForAddress(keysOff.Address), null),
            new("gateway, keys on", GrpcChannel.ForAddress(keysOn.Address), keyed),
        ];
        try
        {
            foreach (var path in paths)
            {
                await GatewayFleet.WaitUntilRoutedAsync(d => path.Client.EmbedTextsAsync(Request, path.Headers, d).ResponseAsync);
                await MeasureAsync(path, 8, TimeSpan.FromSeconds(2));   // warm-up: JIT, connections, the service's queue
            }

            int[] concurrencies = [1, 64];
            var results = paths.ToDictionary(p => p.Name, _ => concurrencies.ToDictionary(c => c, _ => new Sample()));
            for (var round = 0; round < rounds; round++)
            {
                foreach (var concurrency in concurrencies)
                {
                    for (var i = 0; i < paths.Length; i++)
                    {
                        var path = paths[(i + round) % paths.Length];
                        results[path.Name][concurrency].Add(await MeasureAsync(path, concurrency, window));
                    }
                }
                Console.Error.WriteLine($"round {round + 1}/{rounds} done");
            }

            Report(paths, concurrencies, results);
            return 0;
        }
        finally
        {
            foreach (var path in paths)
                path.Channel.Dispose();
            keysDir.Delete(recursive: true);
        }
    }

    private static readonly ClipV1.EmbedTextsRequest Request = new() { Texts = { "a photo of a cat" } };

    private static async Task<Sample> MeasureAsync(Route path, int concurrency, TimeSpan window)
    {
        var sample = new Sample();
        var stopwatch = Stopwatch.StartNew();
        var end = window.Ticks;
        async Task Client()
        {
            var latencies = new List<long>();
            while (stopwatch.Elapsed.Ticks < end)
            {
                var start = Stopwatch.GetTimestamp();
                await path.Client.EmbedTextsAsync(Request, path.Headers).ResponseAsync;
                latencies.Add(Stopwatch.GetTimestamp() - start);
            }
            lock (sample)
                sample.Latencies.AddRange(latencies);
        }
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Client)));
        sample.Seconds = stopwatch.Elapsed.TotalSeconds;
        return sample;
    }

    private static void Report(Route[] paths, int[] concurrencies, Dictionary<string, Dictionary<int, Sample>> results)
    {
        Console.WriteLine();
        Console.WriteLine($"{"path",-20} {"clients",7} {"calls",8} {"p50 µs",9} {"p99 µs",9} {"calls/s",9} {"Δp50 µs",9} {"Δp99 µs",9} {"thr/direct",10}");
        foreach (var concurrency in concurrencies)
        {
            var direct = results["direct"][concurrency];
            foreach (var path in paths)
            {
                var s = results[path.Name][concurrency];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{path.Name,-20} {concurrency,7} {s.Latencies.Count,8} {s.P(0.50),9:0} {s.P(0.99),9:0} {s.Throughput,9:0} " +
                    $"{s.P(0.50) - direct.P(0.50),9:+0;-0;0} {s.P(0.99) - direct.P(0.99),9:+0;-0;0} {s.Throughput / direct.Throughput,10:0.00}"));
            }
        }
        Console.WriteLine("goal: Δp50 <= +100 µs and thr/direct >= 0.80 (issue 9)");
    }

    private sealed record Route(string Name, GrpcChannel Channel, Metadata? Headers)
    {
        public ClipV1.ClipService.ClipServiceClient Client { get; } = new(Channel);
    }

    private sealed class Sample
    {
        public List<long> Latencies { get; } = [];
        public double Seconds { get; set; }
        public double Throughput => Latencies.Count / Seconds;

        public void Add(Sample other)
        {
            Latencies.AddRange(other.Latencies);
            Seconds += other.Seconds;
        }

        /// <summary>Quantile <paramref name="q"/> of the latencies, in µs.</summary>
        public double P(double q)
        {
            if (Latencies.Count == 0)
                return double.NaN;
            var sorted = Latencies.Order().ToArray();
            return sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))] * 1e6 / Stopwatch.Frequency;
        }
    }
}
