using System.Diagnostics;
using MultiModal.Models.Clip;
using MultiModal.Models.Runtime;
using static TorchSharp.torch;

namespace MultiModal.Tests.Bench;

/// <summary>
/// One CLIP tower's float32 forward at one batch size, packed as the service packs it, repeated for a while: a steady
/// workload to profile (`perf record`) and its median time per call. `--packing OneMkl|Panels` (default: this CPU's).
/// </summary>
public static class ClipLoopBench
{
    public static void Run(string folder, string tower, int batch, TimeSpan duration, LinearPacking packing)
    {
        using var model = ClipCheckpoint.Load(folder, CPU, ScalarType.Float32);
        model.PackForInference(packing);
        manual_seed(5);
        using var pixels = randn(batch, 3, 224, 224);
        using var ids = randint(0, 49406, [batch, 77]);
        ids[.., 76] = tensor(49407L);
        Func<Tensor> forward = tower switch
        {
            "image" => () => model.GetImageFeatures(pixels),
            "text" => () => model.GetTextFeatures(ids, null),
            _ => throw new ArgumentException($"--tower image|text, not {tower}"),
        };
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed < duration || times.Count < 3)
        {
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            var watch = Stopwatch.StartNew();
            forward();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Console.WriteLine($"CLIP {tower} b{batch}, packing {packing}, {get_num_threads()} threads, CPU {CpuFeatures.ModelName}: " +
            $"{times.Count} calls, median {times[times.Count / 2]:F1} ms, fastest {times[0]:F1} ms");
    }
}
