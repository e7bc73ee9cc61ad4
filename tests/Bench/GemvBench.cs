using System.Diagnostics;
using MultiModal.Models.Runtime;
using static TorchSharp.torch;

namespace MultiModal.Tests.Bench;

/// <summary>
/// Decode-shaped products: x (M, 2048) through 8 distinct (5632, 2048) weights (370 MB in float32, beyond the caches),
/// float32 and bf16, M = 1 and 2, several formulations; weight GB/s of each, the formulations interleaved round by round.
/// </summary>
public static class GemvBench
{
    public static void Run(int rounds)
    {
        TorchRuntime.Initialize();
        Console.WriteLine($"threads {get_num_threads()}; CPU {CpuFeatures.ModelName}; copy {VisionBench.CopyBandwidthGBs(512L << 20):F1} GB/s");
        const int n = 5632, k = 2048, count = 8;
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            var weights = Enumerable.Range(0, count).Select(_ => (randn(n, k) * 0.02).to(dtype)).ToArray();
            var bytes = (double)n * k * weights[0].ElementSize * count;
            foreach (var m in new[] { 1, 2 })
            {
                using var x = randn(m, k).to(dtype);
                var ways = new (string Name, Func<Tensor, Tensor, Tensor> Op)[]
                {
                    ("linear(x, W)", (x, w) => nn.functional.linear(x, w)),
                    ("matmul(W, x^T)", (x, w) => matmul(w, x.t())),
                    ("GemvLinear.Linear (CpuGemv in bf16, linear in float32)", (x, w) => MultiModal.Models.Layers.GemvLinear.Linear(x, w, null)),
                    ("mv(W, x) per row", (x, w) => x.shape[0] == 1 ? mv(w, x[0]).unsqueeze(0) : stack(Enumerable.Range(0, (int)x.shape[0]).Select(r => mv(w, x[r])).ToArray())),
                };
                // Rounds interleave the ways, so a drift of the host's bandwidth (it moves between 40 and 80 GB/s here)
                // reaches every way alike; each way's best round is reported.
                foreach (var (_, op) in ways)
                    using (var scope = NewDisposeScope()) foreach (var w in weights) op(x, w);
                var best = ways.Select(_ => double.MaxValue).ToArray();
                for (var r = 0; r < rounds; r++)
                    for (var i = 0; i < ways.Length; i++)
                    {
                        using var scope = NewDisposeScope();
                        var watch = Stopwatch.StartNew();
                        foreach (var w in weights) ways[i].Op(x, w);
                        best[i] = Math.Min(best[i], watch.Elapsed.TotalSeconds);
                    }
                for (var i = 0; i < ways.Length; i++)
                    Console.WriteLine($"| {dtype} | M={m} | {ways[i].Name} | {bytes / best[i] / 1e9:F1} GB/s |");
            }
            foreach (var w in weights) w.Dispose();
        }
    }
}
