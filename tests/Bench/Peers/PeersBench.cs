using Microsoft.ML.OnnxRuntime;
using MultiModal.Models.Clip;
using MultiModal.Models.Pipelines;
using MultiModal.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Tests.Bench.Peers;

/// <summary>
/// This project against ONNX Runtime on the same work, in one process and one window (`make bench-peers`): CLIP
/// ViT-B/32 image and text towers (batch 1/8/32), the SD 1.5 UNet for one CFG step (batch 2, 64×64 latents, 77×768
/// context) and the SD 1.5 VAE decode (1×4×64×64 → 512²), all float32 with random weights of the real configurations.
/// ORT runs the peer kit's exports (../shared/peer-bench, plus tests/Bench/peers/export_vae_decoder.py) with the kit's
/// session settings; ours runs ClipModel / UNet2DConditionModel / AutoencoderKL on ModelKit folders of the same shapes.
/// Per case: warm-ups of both, then rounds alternating which side goes first; every row is a ratio of medians,
/// ours / ORT time (below 1 = this project is faster). One section at a time is in memory.
/// </summary>
public static class PeersBench
{
    public sealed record Options(string OnnxDir, string? ClipFolder, string? SdFolder, IReadOnlySet<string> Only,
        int ClipRounds = 7, int SdRounds = 3, string? TorchLogs = null);

    private sealed record Row(string Case, string Kind, int Batch, Interleaved Times, string Unit, string Note = "");

    public static int Run(Options o)
    {
        TorchRuntime.Initialize();
        var machine = MachineHeader.Read();
        var torchRows = o.TorchLogs is { } logs ? KitTorchRows.Load(logs) : KitTorchRows.Empty;
        Console.WriteLine($"# Peers in the same run: this project vs ONNX Runtime {OrtRunner.Version}, float32");
        Console.WriteLine($"# {machine}");
        Console.WriteLine($"# torch threads {get_num_threads()} (MKL dispatch: {TorchRuntime.MklDispatch}; host memory: {TorchRuntime.HostMemory}); ORT intra-op 2, inter-op 1, ORT_ENABLE_ALL; " +
                          $"load average at start {LoadAverage()}");
        Console.WriteLine($"# rounds: CLIP {o.ClipRounds}, UNet/VAE {o.SdRounds}, alternating order, after warm-ups; ratio = ours / ORT median time (< 1.00: ours faster)");
        Console.WriteLine($"# sections: {string.Join(", ", o.Only.Order())}");

        var rows = new List<Row>();
        if (o.Only.Contains("clip")) rows.AddRange(Clip(o));
        if (o.Only.Contains("unet")) rows.Add(Unet(o));
        if (o.Only.Contains("vae")) rows.Add(Vae(o));

        Console.WriteLine();
        Console.WriteLine($"CPU: {machine.CpuModel}, {machine.FamilyModel} (avx512f {(machine.Avx512F ? "yes" : "no")}, avx512_bf16 {(machine.Avx512Bf16 ? "yes" : "no")}); " +
                          $"commit {machine.Commit}; load average at end {LoadAverage()}");
        var torchHeader = torchRows.Any ? " PyTorch (kit JSONL, other window) |" : "";
        Console.WriteLine($"| case | ORT median | ours median | ours / ORT time | ORT throughput | ours throughput |{torchHeader}");
        Console.WriteLine($"|---|---|---|---|---|---|{(torchRows.Any ? "---|" : "")}");
        foreach (var r in rows)
        {
            var torch = torchRows.Any ? $" {(torchRows.Seconds(r.Kind, r.Batch) is { } s ? Time(s) : "")} |" : "";
            Console.WriteLine($"| {r.Case} | {Time(r.Times.OrtMedian)} | {Time(r.Times.OursMedian)} | **{r.Times.Ratio:F2}** | " +
                              $"{Rate(r.Batch, r.Times.OrtMedian, r.Unit)} | {Rate(r.Batch, r.Times.OursMedian, r.Unit)} |{torch}");
        }
        foreach (var r in rows.Where(r => r.Note.Length > 0))
            Console.WriteLine($"{r.Case}: {r.Note}");
        return 0;
    }

    // ---- CLIP ViT-B/32: ORT on the kit's dynamic-batch towers, ours on the ModelKit vit-b-32 folder.
    private static IEnumerable<Row> Clip(Options o)
    {
        var folder = o.ClipFolder ?? throw new ArgumentException("--clip <clip folder> is required for the clip section");
        using var model = ClipCheckpoint.Load(folder, CPU, ScalarType.Float32);
        model.PackForInference();                                   // as the CLIP service does (ClipEngine)
        var rows = new List<Row>();
        var rng = new Random(123);
        foreach (var b in new[] { 1, 8, 32 })
        {
            var px = Gaussian(rng, b * 3 * 224 * 224);
            using var ort = new OrtRunner(Path.Combine(o.OnnxDir, "clip_vitb32_image.onnx"),
                [("pixel_values", OrtValue.CreateTensorValueFromMemory(px, [b, 3, 224, 224]))], "image_embeds");
            using var input = tensor(px, [b, 3, 224, 224]);
            var t = Interleaved.Measure(ort.Run, () => Ours(() => model.GetImageFeatures(input)), warmups: 2, o.ClipRounds);
            rows.Add(Print(new Row($"CLIP image b{b}", "image", b, t, "img/s")));
        }
        foreach (var b in new[] { 1, 8, 32 })
        {
            var ids = new long[b * 77];
            for (var r = 0; r < b; r++)
            {
                for (var i = 0; i < 77; i++) ids[r * 77 + i] = rng.Next(0, 49406);
                ids[r * 77] = 49406;      // <|startoftext|>
                ids[r * 77 + 76] = 49407; // <|endoftext|>, the highest id: pooled position for both runtimes
            }
            using var ort = new OrtRunner(Path.Combine(o.OnnxDir, "clip_vitb32_text.onnx"),
                [("input_ids", OrtValue.CreateTensorValueFromMemory(ids, [b, 77]))], "text_embeds");
            using var input = tensor(ids, [b, 77]);
            var t = Interleaved.Measure(ort.Run, () => Ours(() => model.GetTextFeatures(input, null)), warmups: 2, o.ClipRounds);
            rows.Add(Print(new Row($"CLIP text b{b}", "text", b, t, "seq/s")));
        }
        return rows;
    }

    // ---- SD 1.5 UNet, one CFG step: the kit's PyTorch reference inputs (seed 7, t = 500) for both sides.
    private static Row Unet(Options o)
    {
        var sd = StableDiffusionFolder.Open(o.SdFolder ?? throw new ArgumentException("--sd <sd15 folder> is required for the unet section"));
        var dir = Path.Combine(o.OnnxDir, "unet");
        var sample = Floats(Path.Combine(dir, "ref_unet_sample.f32"));
        var timestep = Longs(Path.Combine(dir, "ref_unet_timestep.i64"));
        var context = Floats(Path.Combine(dir, "ref_unet_encoder_hidden_states.f32"));
        using var ort = new OrtRunner(Path.Combine(dir, "unet_sd15.onnx"),
        [
            ("sample", OrtValue.CreateTensorValueFromMemory(sample, [2, 4, 64, 64])),
            ("timestep", OrtValue.CreateTensorValueFromMemory(timestep, [2])),
            ("encoder_hidden_states", OrtValue.CreateTensorValueFromMemory(context, [2, 77, 768])),
        ], "out_sample");
        var (diff, max) = ort.Check(Floats(Path.Combine(dir, "ref_unet_out_sample.f32"))); // also ORT's first warm-up
        using var unet = sd.LoadUnet(CPU, ScalarType.Float32);
        using var x = tensor(sample, [2, 4, 64, 64]);
        using var ts = tensor(timestep, [2]);
        using var ctx = tensor(context, [2, 77, 768]);
        var t = Interleaved.Measure(ort.Run, () => Ours(() => unet.Forward(x, ts, ctx)), warmups: 1, o.SdRounds);
        return Print(new Row("SD 1.5 UNet CFG step (b2, 64×64, ctx 77×768)", "unet", 2, t, "step/s",
            $"ORT first call vs the kit's PyTorch reference: max|diff| {diff:E2} (max|ref| {max:F3})"));
    }

    // ---- SD 1.5 VAE decode 512²: what AutoencoderKL.Decode computes (post_quant_conv → decoder, latents already
    //      divided by scaling_factor), exported by tests/Bench/peers/export_vae_decoder.py.
    private static Row Vae(Options o)
    {
        var sd = StableDiffusionFolder.Open(o.SdFolder ?? throw new ArgumentException("--sd <sd15 folder> is required for the vae section"));
        var dir = Path.Combine(o.OnnxDir, "vae");
        var latent = Floats(Path.Combine(dir, "ref_vae_latent.f32"));
        using var ort = new OrtRunner(Path.Combine(dir, "vae_decoder_sd15.onnx"),
            [("latent", OrtValue.CreateTensorValueFromMemory(latent, [1, 4, 64, 64]))], "sample");
        var (diff, max) = ort.Check(Floats(Path.Combine(dir, "ref_vae_sample.f32")));
        using var vae = sd.LoadVae(CPU, ScalarType.Float32);
        using var z = tensor(latent, [1, 4, 64, 64]);
        var t = Interleaved.Measure(ort.Run, () => Ours(() => vae.Decode(z)), warmups: 1, o.SdRounds);
        return Print(new Row("SD 1.5 VAE decode 512² (1×4×64×64)", "vae", 1, t, "img/s",
            $"ORT first call vs PyTorch (diffusers 0.25.1 AutoencoderKL.decode): max|diff| {diff:E2} (max|ref| {max:F3})"));
    }

    private static void Ours(Func<Tensor> forward)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        forward();
    }

    private static Row Print(Row r)
    {
        Console.WriteLine($"{r.Case}: ORT {Times(r.Times.OrtSeconds)} | ours {Times(r.Times.OursSeconds)} | ours/ORT {r.Times.Ratio:F2} | load {LoadAverage()}");
        return r;
    }

    private static string Times(IEnumerable<double> s) => string.Join(" ", s.Select(Time));

    private static string Time(double s) => s < 1 ? $"{s * 1000:F1} ms" : $"{s:F2} s";

    private static string Rate(int batch, double seconds, string unit) => $"{batch / seconds:F2} {unit}";

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    private static float[] Gaussian(Random r, int n)
    {
        var a = new float[n];
        for (var i = 0; i < n; i++)
            a[i] = (float)(Math.Sqrt(-2.0 * Math.Log(1.0 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble()));
        return a;
    }

    private static float[] Floats(string path) => Read<float>(path);
    private static long[] Longs(string path) => Read<long>(path);

    private static T[] Read<T>(string path) where T : unmanaged
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing: run `make peers-prep` (see tests/Bench/README.md)", path);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(File.ReadAllBytes(path)).ToArray();
    }

    public static IReadOnlySet<string> Sections(string? only)
    {
        string[] all = ["clip", "unet", "vae"];
        if (only is null) return all.ToHashSet();
        var picked = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .SelectMany(s => s == "sd" ? ["unet", "vae"] : new[] { s }).ToHashSet();
        var unknown = picked.Except(all).ToArray();
        if (unknown.Length > 0) throw new ArgumentException($"--only: unknown section(s) {string.Join(",", unknown)}; expected clip, unet, vae or sd");
        return picked;
    }
}
