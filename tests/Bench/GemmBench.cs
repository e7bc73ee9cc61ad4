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
    /// <param name="weights">Distinct weights per shape: 12 stream them from memory as a model's layers do; 1 keeps one in the caches (the kernel's own speed).</param>
    public static void Run(int rounds, int weights)
    {
        var threads = get_num_threads();
        Console.WriteLine($"threads {threads}; CPU {CpuFeatures.ModelName}; {weights} distinct weight(s) per shape");
        var kernels = PanelKernels.Running.ToArray();
        Console.WriteLine($"| rows × k × n | linear | oneMKL packed | {string.Join(" | ", kernels.Select(c => $"panels {c}"))} | " +
            $"{string.Join(" | ", kernels.Select(c => $"panels {c} / oneMKL packed"))} | max |Δ| panels vs linear |");
        Console.WriteLine($"|---|---|---|{string.Concat(kernels.Select(_ => "---|---|"))}---|");
        (int M, int K, int N)[] shapes =
        [
            (50, 768, 768), (50, 768, 3072), (50, 3072, 768), (77, 512, 512), (77, 512, 2048), (77, 2048, 512),
            (100, 768, 3072), (154, 512, 2048), (400, 768, 768), (400, 768, 3072), (616, 512, 2048),
        ];
        var count = weights;
        foreach (var (m, k, n) in shapes)
        {
            using var scope = NewDisposeScope();
            var ws = Enumerable.Range(0, count).Select(_ => randn(n, k) * 0.02).ToArray();
            var biases = Enumerable.Range(0, count).Select(_ => randn(n) * 0.02).ToArray();
            var mkl = ws.Select(MklPackedMatrix.Pack).ToArray();
            var panels = kernels.Select(c => ws.Select(w => PanelPackedMatrix.Pack(w, c)).ToArray()).ToArray();
            var x = randn(m, k);
            var ways = new Func<int, Tensor>[]
            {
                i => nn.functional.linear(x, ws[i], biases[i]),
                i => mkl[i].Multiply(x, biases[i]),
            }.Concat(panels.Select(p => (Func<int, Tensor>)(i => p[i].Multiply(x, biases[i], threads)))).ToArray();
            var error = 0.0;
            for (var w = 2; w < ways.Length; w++)
                for (var i = 0; i < count; i++)
                    using (var d = (ways[w](i) - ways[0](i)).abs().max()) error = Math.Max(error, d.item<float>());
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
            Console.WriteLine($"| {m}×{k}×{n} | {string.Join(" | ", median.Select(Cell))} | " +
                $"{string.Join(" | ", median.Skip(2).Select(t => $"{t / median[1]:F2}"))} | {error:E1} |");
            foreach (var p in mkl) p.Dispose();
            foreach (var p in panels.SelectMany(p => p)) p.Dispose();
        }
    }
}
