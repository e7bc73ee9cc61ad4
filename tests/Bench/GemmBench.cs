using System.Diagnostics;
using MultiModal.Models.Runtime;
using static TorchSharp.torch;

namespace MultiModal.Tests.Bench;

/// <summary>
/// CLIP-shaped products y = x·Wᵀ + b at batch 1 and 8 (ViT-B/32: 50 image rows of 768, 77 text rows of 512): libtorch's
/// linear, oneMKL's packed sgemm (<see cref="MklPackedMatrix"/>) and the panel kernel (<see cref="PanelPackedMatrix"/>),
/// each through 12 distinct weights per shape (a model's layers, beyond the caches), interleaved in rounds; medians.
/// </summary>
public static class GemmBench
{
    public static void Run(int rounds)
    {
        var threads = get_num_threads();
        Console.WriteLine($"threads {threads}; CPU {CpuFeatures.ModelName}");
        Console.WriteLine("| rows × k × n | linear | oneMKL packed | panels | panels / oneMKL packed | max |Δ| panels vs linear |");
        Console.WriteLine("|---|---|---|---|---|---|");
        (int M, int K, int N)[] shapes =
        [
            (50, 768, 768), (50, 768, 3072), (50, 3072, 768), (77, 512, 512), (77, 512, 2048), (77, 2048, 512),
            (400, 768, 768), (400, 768, 3072), (616, 512, 2048),
        ];
        const int count = 12;
        foreach (var (m, k, n) in shapes)
        {
            using var scope = NewDisposeScope();
            var weights = Enumerable.Range(0, count).Select(_ => randn(n, k) * 0.02).ToArray();
            var biases = Enumerable.Range(0, count).Select(_ => randn(n) * 0.02).ToArray();
            var mkl = weights.Select(MklPackedMatrix.Pack).ToArray();
            var panels = weights.Select(PanelPackedMatrix.Pack).ToArray();
            var x = randn(m, k);
            var ways = new Func<int, Tensor>[]
            {
                i => nn.functional.linear(x, weights[i], biases[i]),
                i => mkl[i].Multiply(x, biases[i]),
                i => panels[i].Multiply(x, biases[i], threads),
            };
            var error = 0.0;
            for (var i = 0; i < count; i++)
                using (var d = (ways[2](i) - ways[0](i)).abs().max()) error = Math.Max(error, d.item<float>());
            var times = ways.Select(_ => new List<double>()).ToArray();
            for (var r = 0; r < rounds; r++)
                for (var w = 0; w < ways.Length; w++)
                {
                    using var inner = NewDisposeScope();
                    var watch = Stopwatch.StartNew();
                    for (var i = 0; i < count; i++) ways[w](i);
                    times[w].Add(watch.Elapsed.TotalMilliseconds / count);
                }
            var median = times.Select(t => t.Order().ElementAt(t.Count / 2)).ToArray();
            string Cell(double ms) => $"{ms:F3} ms ({2.0 * m * k * n / ms / 1e6:F0} GFLOP/s)";
            Console.WriteLine($"| {m}×{k}×{n} | {Cell(median[0])} | {Cell(median[1])} | {Cell(median[2])} | {median[2] / median[1]:F2} | {error:E1} |");
            foreach (var p in mkl) p.Dispose();
            foreach (var p in panels) p.Dispose();
        }
    }
}
