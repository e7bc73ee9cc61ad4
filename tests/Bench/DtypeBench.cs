using System.Diagnostics;
using MultiModal.Models.Clip;
using MultiModal.Models.Pipelines;
using MultiModal.Models.Runtime;
using MultiModal.Models.Schedulers;
using MultiModal.Tests.Bench.Peers;
using static TorchSharp.torch;

namespace MultiModal.Tests.Bench;

/// <summary>
/// float32 against bfloat16 for CLIP and Stable Diffusion on the CPU (issue 8, item 3): both models loaded in one
/// process, calls alternated (float32, bf16 | bf16, float32 | …) with an untimed call of the same model before each timed
/// one, medians per dtype; quality as the bf16 outputs' distance to float32 on the same inputs: CLIP embeddings' cosine,
/// SD images' pixel difference and PSNR by seed.
/// </summary>
public static class DtypeBench
{
    private static readonly ScalarType[] Dtypes = [ScalarType.Float32, ScalarType.BFloat16];

    public static void Clip(string folder, int rounds)
    {
        Header(folder);
        var models = Dtypes.ToDictionary(d => d, d => ClipCheckpoint.Load(folder, CPU, d));
        var imageSize = models[ScalarType.Float32].Config.VisionConfig.ImageSize;
        Console.WriteLine("| case | float32 median | bf16 median | bf16 × float32 speed | cosine bf16 vs float32: min / mean over rows |");
        Console.WriteLine("|---|---|---|---|---|");
        var rng = new Generator(11);
        foreach (var b in new[] { 1, 8, 32 })
        {
            using var pixels = randn([b, 3, imageSize, imageSize], generator: rng);
            Row($"image b{b}", rounds, d => models[d].GetImageFeatures(pixels.to(d)));
        }
        foreach (var b in new[] { 1, 8, 32 })
        {
            using var ids = randint(1, 49406, [b, 77], generator: rng);
            ids[.., 0] = 49406;   // <|startoftext|>
            ids[.., 76] = 49407;  // <|endoftext|>, the pooled position
            Row($"text b{b}", rounds, d => models[d].GetTextFeatures(ids, null));
        }
        foreach (var model in models.Values) model.Dispose();
    }

    public static void Diffusion(string folder, int size, int steps, int rounds)
    {
        Header(folder);
        var pipelines = Dtypes.ToDictionary(d => d, d => StableDiffusionPipeline.Load(folder, CPU, d));
        var f32 = pipelines[ScalarType.Float32];
        var latent = size / f32.Models.Vae.Config.ScaleFactor;
        var rng = new Generator(5);
        using var sample = randn([2, f32.Models.Unet.Config.InChannels, latent, latent], generator: rng);
        using var context = randn([2, 77, f32.Models.TextEncoder.Config.HiddenSize], generator: rng);
        using var timestep = tensor(500L);
        using var latents = randn([1, f32.Models.Vae.Config.LatentChannels, latent, latent], generator: rng);
        Console.WriteLine($"| case ({size}x{size}) | float32 median | bf16 median | bf16 × float32 speed | bf16 vs float32 |");
        Console.WriteLine("|---|---|---|---|---|");
        Row("UNet step, CFG batch 2", rounds, d => pipelines[d].Models.Unet.Forward(sample.to(d), timestep, context.to(d)));
        Row("VAE decode, 1 image", rounds, d => pipelines[d].Models.Vae.Decode(latents.to(d)));

        // Whole generations by seed: the images' difference in 8-bit pixel values.
        foreach (var seed in new ulong[] { 1, 2 })
        {
            var request = new GenerationRequest("a red circle on a blue background", "", size, size, steps, 7.5, [seed],
                SchedulerKind.Default, null, 0, PreviewRequest.None);
            var seconds = new Dictionary<ScalarType, double>();
            var images = new Dictionary<ScalarType, byte[]>();
            foreach (var d in Dtypes)
            {
                var clock = Stopwatch.StartNew();
                images[d] = pipelines[d].Generate(request, null, CancellationToken.None).Images[0].Rgb;
                seconds[d] = clock.Elapsed.TotalSeconds;
            }
            var (meanAbs, psnr) = Difference(images[ScalarType.Float32], images[ScalarType.BFloat16]);
            Console.WriteLine($"| generation, {steps} steps, seed {seed} | {seconds[ScalarType.Float32]:F1} s | {seconds[ScalarType.BFloat16]:F1} s | " +
                $"{seconds[ScalarType.Float32] / seconds[ScalarType.BFloat16]:F2} (one run) | mean |Δ| {meanAbs:F2} of 255, PSNR {psnr:F1} dB |");
        }
        foreach (var pipeline in pipelines.Values) pipeline.Dispose();
    }

    private static void Header(string folder) =>
        Console.WriteLine($"model {folder}; torch threads {get_num_threads()}; CPU {CpuFeatures.ModelName}; avx512_bf16 {CpuFeatures.HasAvx512Bf16}, " +
            $"amx_bf16 {CpuFeatures.HasAmxBf16}; OpenMP spin {TorchRuntime.OpenMpSpin}; start-up probe (Bf16SpeedProbe): float32 / bf16 " +
            $"time {Bf16SpeedProbe.Speedup:F2}, so DType=auto picks {(Bf16SpeedProbe.Bf16IsFaster ? "bfloat16" : "float32")} for CLIP and Vision");

    // Times `run` per dtype in alternating rounds and compares the bf16 output with the float32 one, row by row.
    private static void Row(string name, int rounds, Func<ScalarType, Tensor> run)
    {
        using var _ = inference_mode();
        var times = Dtypes.ToDictionary(d => d, _ => new List<double>());
        for (var r = 0; r < rounds; r++)
            foreach (var d in r % 2 == 0 ? Dtypes : Dtypes.Reverse())
            {
                using (var scope = NewDisposeScope()) run(d);
                using var timed = NewDisposeScope();
                var clock = Stopwatch.StartNew();
                run(d);
                times[d].Add(clock.Elapsed.TotalSeconds);
            }
        using var outputs = NewDisposeScope();
        var reference = run(ScalarType.Float32).to(ScalarType.Float32).flatten(1);
        var candidate = run(ScalarType.BFloat16).to(ScalarType.Float32).flatten(1);
        var cosine = nn.functional.cosine_similarity(reference, candidate, dim: 1);
        double f = Interleaved.Median(times[ScalarType.Float32]), b = Interleaved.Median(times[ScalarType.BFloat16]);
        Console.WriteLine($"| {name} | {Ms(f)} | {Ms(b)} | {f / b:F2} | cosine min {cosine.min().item<float>():F5}, mean {cosine.mean().item<float>():F5} |");
    }

    private static (double MeanAbs, double Psnr) Difference(byte[] a, byte[] b)
    {
        double abs = 0, squared = 0;
        for (var i = 0; i < a.Length; i++)
        {
            var d = a[i] - b[i];
            abs += Math.Abs(d);
            squared += d * d;
        }
        var mse = squared / a.Length;
        return (abs / a.Length, mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(255.0 * 255.0 / mse));
    }

    private static string Ms(double seconds) => seconds >= 1 ? $"{seconds:F2} s" : $"{seconds * 1000:F1} ms";
}
