using System.Diagnostics;
using MultiModal.Models.Llava;
using MultiModal.Models.Unet;
using MultiModal.Models.Weights;
using static TorchSharp.torch;

namespace MultiModal.Tests.Bench;

/// <summary>
/// Model start-up, float32 on the CPU (method: tests/Bench/README.md, "Load"): the loader the services use (build on
/// the meta device, then each parameter straight from the file) against the baseline it replaced, measured in the same
/// run (build on the CPU, which initialises every parameter at random, then copy the file's tensors in). One untimed
/// load first puts the file in the page cache, so both read from memory.
/// </summary>
public static class LoadBench
{
    public static void Run(string folder)
    {
        Console.WriteLine($"model {folder}; torch threads {get_num_threads()}; float32 on CPU");
        var (name, materialize, buildThenCopy) = File.Exists(Path.Combine(folder, "model_index.json"))
            ? ("UNet2DConditionModel", (Func<nn.Module>)(() => UNet2DConditionModel.Load(Path.Combine(folder, "unet"), CPU, ScalarType.Float32)),
                (Func<nn.Module>)(() => UnetBuiltThenCopied(Path.Combine(folder, "unet"))))
            : ("LlavaForConditionalGeneration", () => LlavaCheckpoint.Load(folder, CPU, ScalarType.Float32), () => LlavaBuiltThenCopied(folder));

        Time(materialize);                                                                        // page cache warm-up
        var baseline = Time(buildThenCopy);
        var current = Time(materialize);
        Console.WriteLine();
        Console.WriteLine($"| {name}, float32 on CPU | seconds |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| build on CPU (random init) + copy the file in (baseline) | {baseline:F2} |");
        Console.WriteLine($"| build on meta + parameters from the file (services) | {current:F2} |");
        Console.WriteLine($"| speed-up | {baseline / current:F2}× |");
    }

    private static double Time(Func<nn.Module> load)
    {
        var watch = Stopwatch.StartNew();
        using var model = load();
        return watch.Elapsed.TotalSeconds;
    }

    private static nn.Module UnetBuiltThenCopied(string folder)
    {
        var model = new UNet2DConditionModel(UNet2DConditionConfig.Load(Path.Combine(folder, "config.json")), CPU);
        StateDictLoader.LoadStrict("UNet2DConditionModel", model, SafeTensorsCheckpoint.Open(folder, "diffusion_pytorch_model"));
        return model;
    }

    private static nn.Module LlavaBuiltThenCopied(string folder)
    {
        var model = new LlavaForConditionalGeneration(LlavaConfig.Load(Path.Combine(folder, "config.json")), CPU);
        var checkpoint = SafeTensorsCheckpoint.Open(folder);
        StateDictLoader.LoadStrict("LlavaForConditionalGeneration", model, checkpoint, KeyRemaps.Llava(checkpoint.Entries.Keys),
            ignore: key => key.EndsWith("position_ids", StringComparison.Ordinal) || key == "language_model.lm_head.weight");
        return model;
    }
}
