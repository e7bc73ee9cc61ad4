using MultiModal.Models.Clip;
using MultiModal.Models.Runtime;
using MultiModal.Tests.Bench.Peers;
using static TorchSharp.torch;

namespace MultiModal.Tests.Bench;

/// <summary>
/// The CLIP towers' forward with each <see cref="LinearPacking"/>, two copies of the same float32 model in one process,
/// interleaved (<see cref="Interleaved"/>): image and text batches of 1 and 8; medians and panels / oneMKL.
/// </summary>
public static class PackingBench
{
    public static void Run(string folder, int rounds)
    {
        Console.WriteLine($"threads {get_num_threads()}; CPU {CpuFeatures.ModelName}; default packing here: {LinearPackings.Default}");
        using var oneMkl = ClipCheckpoint.Load(folder, CPU, ScalarType.Float32);
        using var panels = ClipCheckpoint.Load(folder, CPU, ScalarType.Float32);
        oneMkl.PackForInference(LinearPacking.OneMkl);
        panels.PackForInference(LinearPacking.Panels);
        Console.WriteLine("| case | oneMKL pack | panels | panels / oneMKL | max |Δ| of the embeddings |");
        Console.WriteLine("|---|---|---|---|---|");
        manual_seed(5);
        foreach (var b in new[] { 1, 8 })
        {
            using var pixels = randn(b, 3, 224, 224);
            Row($"image b{b}", () => oneMkl.GetImageFeatures(pixels), () => panels.GetImageFeatures(pixels), rounds);
        }
        foreach (var b in new[] { 1, 8 })
        {
            using var ids = randint(0, 49406, [b, 77]);
            ids[.., 76] = tensor(49407L);
            Row($"text b{b}", () => oneMkl.GetTextFeatures(ids, null), () => panels.GetTextFeatures(ids, null), rounds);
        }
    }

    private static void Row(string name, Func<Tensor> oneMkl, Func<Tensor> panels, int rounds)
    {
        double difference;
        using (var _ = inference_mode())
        using (var a = oneMkl())
        using (var p = panels())
        using (var d = (a - p).abs().max())
            difference = d.item<float>();
        var t = Interleaved.Measure(() => Forward(oneMkl), () => Forward(panels), warmups: 2, rounds);
        Console.WriteLine($"| {name} | {t.OrtMedian * 1e3:F1} ms | {t.OursMedian * 1e3:F1} ms | {t.Ratio:F2} | {difference:E1} |");
    }

    private static void Forward(Func<Tensor> forward)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        forward();
    }
}
