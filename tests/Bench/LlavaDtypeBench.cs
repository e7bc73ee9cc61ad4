using System.Diagnostics;
using System.Text.Json;
using MultiModal.Models.Clip;
using MultiModal.Models.Imaging;
using MultiModal.Models.Llava;
using MultiModal.Models.Llava.Generation;
using MultiModal.Models.Runtime;
using MultiModal.Tests.Bench.Peers;
using static TorchSharp.torch;

namespace MultiModal.Tests.Bench;

/// <summary>
/// LLaVA decode in float32 and bfloat16 side by side in one run (method: tests/Bench/README.md, "Vision: bf16 vs
/// float32"): copy bandwidth first, then rounds of A/B (float32, bf16, float32, bf16, …) of decode tokens/s with 1 and
/// 2 generations stepped together, each as a fraction of its own bandwidth bound (its weight bytes per token over the
/// copy bandwidth); then greedy agreement of bf16 with float32 on the golden prompts of a golden model folder.
/// </summary>
public static class LlavaDtypeBench
{
    public static void Run(string folder, string? goldenFolder, int decodeTokens, int rounds)
    {
        TorchRuntime.Initialize();
        Console.WriteLine($"model {folder}; torch threads {get_num_threads()}; CPU {CpuFeatures.ModelName}; " +
            $"avx512_bf16 {CpuFeatures.HasAvx512Bf16}, amx_bf16 {CpuFeatures.HasAmxBf16}; oneMKL {TorchRuntime.MklDispatch}; host memory {TorchRuntime.HostMemory}; OpenMP spin {TorchRuntime.OpenMpSpin}");
        // The roofline: copy bandwidth, measured again after every round and the best kept (on a shared VM a neighbour's
        // traffic moves it between 31 and 71 GB/s within minutes; one early measurement made ratios above 100 %).
        var copies = new List<double> { CopyBandwidthGBs(512L << 20) };
        var reads = new List<double> { VisionBench.ReadBandwidthGBs(512L << 20) };

        var generators = new[] { ScalarType.Float32, ScalarType.BFloat16 }
            .Select(dtype => (DType: dtype, Generator: LlavaGenerator.Load(folder, CPU, dtype))).ToList();
        var results = generators.ToDictionary(g => g.DType, _ => (One: new List<double>(), Two: new List<double>()));
        var prefills = generators.ToDictionary(g => g.DType, _ => new List<double>());
        var processor = ClipImageProcessor.FromFolder(folder);
        var card = processor.Preprocess(VisionBench.TestCard(640, 480));
        var ids = generators[0].Generator.Tokenizer.Encode(LlavaPrompt.Build("What is in this picture? Describe it in detail."));
        var promptTokens = ids.Length - 1 + generators[0].Generator.Model.Config.ImageSequenceLength;
        foreach (var (_, generator) in generators) VisionBench.Measure(generator, 1, 2);              // warm-up
        for (var round = 0; round < rounds; round++)
        {
            foreach (var (dtype, generator) in generators)
            {
                results[dtype].One.Add(VisionBench.Measure(generator, 1, decodeTokens).TokensPerSecond);
                results[dtype].Two.Add(VisionBench.Measure(generator, 2, decodeTokens).TokensPerSecond);
                prefills[dtype].Add(Prefill(generator, ids, card, processor.ImageSize, dtype));
            }
            copies.Add(CopyBandwidthGBs(512L << 20));
            reads.Add(VisionBench.ReadBandwidthGBs(512L << 20));
        }
        var copyGBs = copies.Max();
        Console.WriteLine($"copy bandwidth: best {copyGBs:F2} GB/s of {string.Join(", ", copies.Select(c => c.ToString("F1")))} (read + write, each best of 5, before and after each round)");
        var readGBs = reads.Max();
        Console.WriteLine($"read bandwidth: best {readGBs:F2} GB/s of {string.Join(", ", reads.Select(c => c.ToString("F1")))} (sum() over 512 MiB, bytes read, each best of 5, same times)");

        Console.WriteLine();
        // × float32 per round: each dtype's tokens/s over float32's in the same round (measured seconds apart), then the
        // median of those; on a VM whose memory bandwidth moves with a neighbour's load this is steadier than a ratio of
        // medians taken minutes apart.
        Console.WriteLine($"| dtype | weight GB/token | decode tokens/s, 1 generation (median of {rounds}) | / bandwidth bound (copy) | / read bound | 2 generations tokens/s | × one | × float32 (1 generation), median of per-round ratios |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var (dtype, generator) in generators)
        {
            var bytes = BytesPerToken(generator.Model.LanguageModel);
            double one = Interleaved.Median(results[dtype].One), two = Interleaved.Median(results[dtype].Two);
            var bound = copyGBs * 1e9 / bytes;
            Console.WriteLine($"| {TorchRuntime.Name(dtype)} | {bytes / 1e9:F3} | {one:F2} (runs {string.Join(", ", results[dtype].One.Select(v => v.ToString("F2")))}) | {one / bound:P0} of {bound:F2} | {one / (readGBs * 1e9 / bytes):P0} of {readGBs * 1e9 / bytes:F2} | {two:F2} | {two / one:F2} | {PerRoundRatio(results[dtype].One, results[ScalarType.Float32].One)} |");
        }
        Console.WriteLine();
        Console.WriteLine($"| dtype | prefill of the 640x480 test card's LLaVA prompt ({promptTokens} positions), tokens/s, median of {rounds} | × float32, median of per-round ratios |");
        Console.WriteLine("|---|---|---|");
        foreach (var (dtype, _) in generators)
            Console.WriteLine($"| {TorchRuntime.Name(dtype)} | {promptTokens / Interleaved.Median(prefills[dtype]):F1} (runs {string.Join(", ", prefills[dtype].Select(v => (promptTokens / v).ToString("F1")))}) | " +
                $"{PerRoundRatio(prefills[ScalarType.Float32], prefills[dtype])} |");
        foreach (var (_, generator) in generators) generator.Model.Dispose();

        if (goldenFolder is not null)
            GreedyAgreement(goldenFolder);
    }

    // Greedy agreement on the golden prompts: the float32 and bf16 token ids, position of the first difference.
    private static void GreedyAgreement(string goldenFolder)
    {
        var modelFolder = Path.Combine(goldenFolder, "tiny-llava-a");
        var golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(goldenFolder, "tiny-llava-a-golden", "golden.json"))).RootElement;
        var processor = ClipImageProcessor.FromFolder(modelFolder);
        Console.WriteLine();
        Console.WriteLine("| golden prompt | new tokens | float32 = golden | bf16 tokens equal to float32 | first difference at |");
        Console.WriteLine("|---|---|---|---|---|");
        var f32 = LlavaGenerator.Load(modelFolder, CPU, ScalarType.Float32);
        var bf16 = LlavaGenerator.Load(modelFolder, CPU, ScalarType.BFloat16);
        foreach (var generation in golden.GetProperty("generation").EnumerateArray())
        {
            var ids = generation.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var expected = generation.GetProperty("new_token_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var png = File.ReadAllBytes(Path.Combine(goldenFolder, "tiny-llava-a-golden", "images", generation.GetProperty("image").GetString() + ".png"));
            var image = processor.Preprocess(ImageDecoder.Decode(png, new ImageLimits()));
            var size = processor.ImageSize;
            var options = new GenerationOptions { MaxNewTokens = expected.Length };
            using var scope = NewDisposeScope();
            var a = f32.Generate(ids, tensor(image, [1, 3, size, size]), options).TokenIds;
            var b = bf16.Generate(ids, tensor(image, [1, 3, size, size]).to(ScalarType.BFloat16), options).TokenIds;
            var equal = a.Zip(b).Count(p => p.First == p.Second);
            var first = Enumerable.Range(0, Math.Min(a.Count, b.Count)).FirstOrDefault(i => a[i] != b[i], -1);
            Console.WriteLine($"| {generation.GetProperty("index").GetInt32()} | {a.Count} | {a.SequenceEqual(expected)} | {equal}/{a.Count} | {(first < 0 ? "none" : first.ToString())} |");
        }
        f32.Model.Dispose();
        bf16.Model.Dispose();
    }

    // Weight bytes a decode step reads: every decoder parameter except the embedding table, of which one row.
    internal static long BytesPerToken(LlamaForCausalLM lm)
    {
        var all = lm.parameters().Sum(p => p.numel() * p.ElementSize);
        var embed = lm.Model.EmbedWeight;
        return all - embed.numel() * embed.ElementSize + embed.shape[1] * embed.ElementSize;
    }

    // Seconds of one prefill (vision tower, projector, merged prompt through the decoder into a fresh cache).
    private static double Prefill(LlavaGenerator generator, int[] ids, float[] image, int size, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        using var cache = generator.Model.NewCache();
        var pixel_values = tensor(image, [1, 3, size, size]).to(dtype);
        var input_ids = tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0);
        var clock = Stopwatch.StartNew();
        generator.Model.Forward(input_ids, pixel_values, cache);
        return clock.Elapsed.TotalSeconds;
    }

    private static string PerRoundRatio(List<double> values, List<double> baseline)
    {
        var ratios = values.Zip(baseline, (v, b) => v / b).ToList();
        return $"{Interleaved.Median(ratios):F2} (rounds {string.Join(", ", ratios.Select(r => r.ToString("F2")))})";
    }

    internal static double CopyBandwidthGBs(long bytes) => VisionBench.CopyBandwidthGBs(bytes);
}
