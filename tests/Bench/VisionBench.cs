using System.Diagnostics;
using MultiModal.Models.Clip;
using MultiModal.Models.Imaging;
using MultiModal.Models.Llava;
using MultiModal.Models.Llava.Generation;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Tests.Bench;

/// <summary>
/// LLaVA generation speed on the CPU in float32, from one run (method: tests/Bench/README.md, "Vision"): prefill
/// tokens/s (vision tower + projector + decoder over the merged prompt), decode tokens/s (one cached step per token),
/// and decode as a fraction of the memory-bandwidth limit, i.e. decoder weight bytes read per token × tokens/s over a
/// copy bandwidth measured in the same process just before; then aggregate decode tokens/s with 1, 2, 4 and 8
/// generations stepped together, as ratios to one; a long image prompt joining running generations, whole or chunked
/// prefill (<see cref="PrefillInterleaveBench"/>); and the streaming detokenizer against re-decoding per token.
/// </summary>
public static class VisionBench
{
    public static void Run(string folder, int decodeTokens)
    {
        Console.WriteLine($"model {folder}; torch threads {get_num_threads()}; float32 on CPU");

        // 1. Copy bandwidth, the roofline: dst.copy_(src) on 512 MiB buffers (far beyond the caches); bytes read + written.
        var copyGBs = CopyBandwidthGBs(512L << 20);
        Console.WriteLine($"copy bandwidth: {copyGBs:F2} GB/s (read + write, best of 5)");

        var load = Stopwatch.StartNew();
        var generator = LlavaGenerator.Load(folder, CPU, ScalarType.Float32);
        var processor = ClipImageProcessor.FromFolder(folder);
        var model = generator.Model;
        Console.WriteLine($"loaded in {load.Elapsed.TotalSeconds:F1} s");

        // Decoder weights a decode step reads: every language-model parameter except the embedding table, of which
        // one row is read. KV-cache reads (a few MB at these lengths) are left out, so the fraction is an upper bound.
        var decoderBytes = model.LanguageModel.parameters().Sum(p => p.numel() * p.ElementSize);
        var embed = model.LanguageModel.Model.EmbedWeight;
        var bytesPerToken = decoderBytes - embed.numel() * embed.ElementSize + embed.shape[1] * embed.ElementSize;
        Console.WriteLine($"decoder weights read per decode step: {bytesPerToken / 1e9:F3} GB");

        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var image = processor.Preprocess(TestCard(640, 480));
        var size = processor.ImageSize;
        var pixel_values = tensor(image, [1, 3, size, size]);                                    // (1, 3, S, S)
        var ids = generator.Tokenizer.Encode(LlavaPrompt.Build("What is in this picture? Describe it in detail."));
        var promptTokens = ids.Length - 1 + model.Config.ImageSequenceLength;

        // 2. Prefill: one forward over the merged prompt (no warm-up run: at 1B parameters one pass is the budget).
        using var cache = model.NewCache();
        var input_ids = tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0);                // (1, T)
        var prefill = Stopwatch.StartNew();
        var next = model.Forward(input_ids, pixel_values, cache).Logits[.., -1].argmax(-1).item<long>();
        var prefillSeconds = prefill.Elapsed.TotalSeconds;

        // 3. Decode: greedy cached steps; the first step is timed apart (allocator and kernel warm-up).
        var stepSeconds = new List<double>();
        for (var step = 0; step <= decodeTokens; step++)
        {
            using var stepScope = NewDisposeScope();
            var watch = Stopwatch.StartNew();
            var logits = model.Forward(tensor(new[] { next }).view(1, 1), null, cache).Logits;    // (1, 1, V)
            next = logits[0, -1].argmax().item<long>();
            stepSeconds.Add(watch.Elapsed.TotalSeconds);
        }
        var steady = stepSeconds.Skip(1).ToList();
        var decodeTps = steady.Count / steady.Sum();
        var achievedGBs = bytesPerToken * decodeTps / 1e9;

        Console.WriteLine();
        Console.WriteLine("| quantity | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| prefill ({promptTokens} tokens: {model.Config.ImageSequenceLength} image rows + {ids.Length - 1} text) | {promptTokens / prefillSeconds:F1} tokens/s ({prefillSeconds:F2} s) |");
        Console.WriteLine($"| decode ({steady.Count} steps after 1 warm-up step of {stepSeconds[0] * 1000:F0} ms) | {decodeTps:F2} tokens/s ({1000 / decodeTps:F0} ms/token) |");
        Console.WriteLine($"| decode weight traffic | {achievedGBs:F2} GB/s |");
        Console.WriteLine($"| copy bandwidth (same run) | {copyGBs:F2} GB/s |");
        Console.WriteLine($"| decode / bandwidth limit | {achievedGBs / copyGBs:P0} |");
        cache.Dispose();

        ConcurrentDecode(generator, decodeTokens);
        PrefillInterleaveBench.Run(generator, pixel_values, ids, running: 2);
        StreamingText(generator.Tokenizer);
        model.Dispose();
    }

    // 6. Streaming text of a 1,000-token answer: the detokenizer (fixed prefix up to the last safe word boundary)
    // against the baseline of decoding every id again for each new token, in the same run.
    private static void StreamingText(LlamaTokenizer tokenizer)
    {
        var text = string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog, and then it runs into the forest. ", 60));
        var ids = tokenizer.Encode(text, addSpecialTokens: false).Take(1000).ToArray();
        double Time(Action run)
        {
            run();                                                                               // warm-up
            var watch = Stopwatch.StartNew();
            run();
            return watch.Elapsed.TotalMilliseconds;
        }
        var streamed = Time(() =>
        {
            var detokenizer = tokenizer.CreateStreamingDetokenizer();
            foreach (var id in ids) detokenizer.Append(id);
        });
        var redecoded = Time(() =>
        {
            for (var n = 1; n <= ids.Length; n++) tokenizer.Decode(ids.Take(n), skipSpecialTokens: true);
        });
        Console.WriteLine();
        Console.WriteLine($"| text of a {ids.Length}-token answer | ms |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| decode all ids again per token (baseline) | {redecoded:F1} |");
        Console.WriteLine($"| StreamingDetokenizer | {streamed:F1} |");
        Console.WriteLine($"| speed-up | {redecoded / streamed:F1}× |");
    }

    // 4. Concurrent generations as the service's queue runs them: N sequences advanced together by
    // LlavaGenerator.Step (one forward pass per token for all N), against N = 1 run the same way in this run. The
    // prompts are text-only and short so their prefills are cheap; the weights a step reads are the same either way.
    private static void ConcurrentDecode(LlavaGenerator generator, int steps)
    {
        Measure(generator, 1, steps);                                                            // warm-up (JIT, allocator)
        Console.WriteLine();
        Console.WriteLine("| generations stepped together | ms/step | tokens/s, all generations | × one generation |");
        Console.WriteLine("|---|---|---|---|");
        double? alone = null;
        foreach (var n in new[] { 1, 2, 4, 8 })
        {
            var (msPerStep, tps) = Measure(generator, n, steps);
            alone ??= tps;
            Console.WriteLine($"| {n} | {msPerStep:F0} | {tps:F2} | {tps / alone:F2} |");
        }
    }

    internal static (double MsPerStep, double TokensPerSecond) Measure(LlavaGenerator generator, int n, int steps)
    {
        var sequences = Enumerable.Range(0, n).Select(i => generator.Start(
            generator.Tokenizer.Encode(LlavaPrompt.Build($"Question {i}: what is shown on a test card?", images: 0)), null,
            new GenerationOptions { MaxNewTokens = steps + 2 })).ToList();
        generator.Step(Running(sequences));                                                      // first step apart
        var tokens = 0;
        var watch = Stopwatch.StartNew();
        for (var step = 0; step < steps; step++)
        {
            var running = Running(sequences);
            generator.Step(running);
            tokens += running.Count;
        }
        var seconds = watch.Elapsed.TotalSeconds;
        foreach (var sequence in sequences) sequence.Dispose();
        return (1000 * seconds / steps, tokens / seconds);
    }

    // A random-weight model may emit EOS: a finished sequence drops out, as in the service.
    private static List<GenerationSequence> Running(List<GenerationSequence> sequences) => sequences.Where(s => !s.IsFinished).ToList();

    internal static double CopyBandwidthGBs(long bytes)
    {
        using var src = rand(bytes / 4);
        using var dst = empty_like(src);
        dst.copy_(src); // touch every page first
        var best = double.MaxValue;
        for (var i = 0; i < 5; i++)
        {
            var watch = Stopwatch.StartNew();
            dst.copy_(src);
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return 2.0 * bytes / best / 1e9;
    }

    // Read bandwidth, the roofline of a step that only reads its weights (a decode step): sum() over a buffer far beyond
    // the caches, on the torch threads; bytes read per second, best of 5.
    internal static double ReadBandwidthGBs(long bytes)
    {
        using var src = rand(bytes / 4);
        using (src.sum()) { } // touch every page first
        var best = double.MaxValue;
        for (var i = 0; i < 5; i++)
        {
            var watch = Stopwatch.StartNew();
            using (src.sum()) { }
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return bytes / best / 1e9;
    }

    // A deterministic photo-like test card (gradients plus rings).
    internal static DecodedImage TestCard(int width, int height)
    {
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var i = (y * width + x) * 3;
                var r = Math.Sqrt((x - width / 2.0) * (x - width / 2.0) + (y - height / 2.0) * (y - height / 2.0));
                rgb[i] = (byte)(255 * x / width);
                rgb[i + 1] = (byte)(255 * y / height);
                rgb[i + 2] = (byte)(127 + 127 * Math.Sin(r / 9));
            }
        return new DecodedImage(width, height, rgb);
    }
}
