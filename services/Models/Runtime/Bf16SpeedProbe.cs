using System.Diagnostics;
using static TorchSharp.torch;

namespace MultiModal.Models.Runtime;

/// <summary>
/// Whether bfloat16 matrix products actually run faster than float32 on this CPU, measured once per process: the
/// avx512_bf16 flag alone does not say it. On an AMD Zen 5 (avx512_bf16, no AMX) CLIP ran 1.4–2.0× faster in bf16; on
/// an Intel Xeon (family 6 model 207, avx512_bf16, no AMX exposed to the VM) 0.57–0.69×, i.e. slower, since oneMKL's
/// float32 GEMM runs at full AVX-512 speed there and libtorch's bf16 linear did not (tests/Bench/README.md, "The first Intel CPU").
/// The probe times libtorch's linear at a transformer block's shape (64 rows × 768 → 3072, the CLIP ViT-B/32 MLP) in
/// both dtypes, interleaved, and takes the median of each: about 20 ms at start-up.
/// </summary>
public static class Bf16SpeedProbe
{
    /// <summary>bf16 counts as faster from this ratio of float32 time to bf16 time on (not for a few percent).</summary>
    public const double RequiredSpeedup = 1.2;

    private const int Rows = 64, In = 768, Out = 3072, Rounds = 7;

    private static readonly Lazy<double> Measured = new(Measure);

    /// <summary>float32 time / bf16 time of the probe product (above 1: bf16 faster); measured on first use.</summary>
    public static double Speedup => Measured.Value;

    /// <summary>Whether the CPU computes bf16 natively (flags) and the probe measured it at least <see cref="RequiredSpeedup"/> faster.</summary>
    public static bool Bf16IsFaster => CpuFeatures.HasNativeBf16 && Speedup >= RequiredSpeedup;

    private static double Measure()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var generator = new Generator(0, CPU);
        var x = randn([Rows, In], generator: generator);
        var w = randn([Out, In], generator: generator) * 0.02;
        var (x16, w16) = (x.to(ScalarType.BFloat16), w.to(ScalarType.BFloat16));
        var float32 = new List<double>();
        var bf16 = new List<double>();
        for (var round = -1; round < Rounds; round++)   // round -1 warms both up
        {
            var f = Time(() => nn.functional.linear(x, w));
            var b = Time(() => nn.functional.linear(x16, w16));
            if (round < 0) continue;
            float32.Add(f);
            bf16.Add(b);
        }
        return Median(float32) / Median(bf16);
    }

    private static double Time(Func<Tensor> product)
    {
        using var scope = NewDisposeScope();
        var watch = Stopwatch.StartNew();
        product();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
