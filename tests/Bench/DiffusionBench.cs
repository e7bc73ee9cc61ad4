using System.Diagnostics;
using MultiModal.Models.Pipelines;
using MultiModal.Models.Runtime;
using MultiModal.Models.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Tests.Bench;

/// <summary>
/// Stable Diffusion costs in one run on one pipeline folder (float32, this machine's device), after one warm-up generation: UNet step with CFG
/// (batch 2), VAE decode, end-to-end seconds per image, and the overhead of approximate previews every step.
/// End-to-end runs <c>steps</c> scheduler steps and extrapolates to <c>target</c> steps (labelled), because a full SD 1.5
/// run on a small CPU takes many minutes.
/// </summary>
public static class DiffusionBench
{
    public sealed record Options(string Folder, int Size = 512, int Steps = 2, int TargetSteps = 20, int UnetIterations = 2, string Device = "cpu",
        string DType = "float32");

    public static void Run(Options o)
    {
        var device = new Device(o.Device);
        var clock = Stopwatch.StartNew();
        var dtype = TorchRuntime.ResolveDType(o.DType, device);
        using var pipeline = StableDiffusionPipeline.Load(o.Folder, device, dtype);
        Console.WriteLine($"model {o.Folder} ({pipeline.NativeWidth}x{pipeline.NativeHeight} native, {pipeline.DefaultScheduler}), " +
            $"device {o.Device}, {TorchRuntime.Name(dtype)}, torch threads {get_num_threads()}, loaded in {clock.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"image {o.Size}x{o.Size}, end-to-end with {o.Steps} steps extrapolated to {o.TargetSteps}, UNet timed over {o.UnetIterations} calls");

        var request = new GenerationRequest("a photo of an astronaut riding a horse on mars", "", o.Size, o.Size, o.Steps, 7.5, [42],
            SchedulerKind.Default, null, 0, PreviewRequest.None);

        // 0. Warm-up: one whole generation of at most 2 steps (every code path once, so no measurement below pays
        //    first-call costs; a 20-step warm-up would add minutes on a CPU and measure nothing).
        pipeline.Generate(request with { Steps = Math.Min(o.Steps, 2) }, null, CancellationToken.None);

        // 1. UNet alone: batch 2 (uncond + cond), one call = one denoising step with CFG.
        var unetSeconds = TimeUnet(pipeline, o, device);

        // 2. VAE decode alone, one latent of the image size.
        var vaeSeconds = TimeVaeDecode(pipeline, o, device);

        // 3. The same generation with approximate previews after every step, then without (the reference for both
        //    the preview ratio and the end-to-end figure).
        var withPreviews = pipeline.Generate(request with { Preview = new PreviewRequest(1, PreviewKind.Approximate, 0) }, null, CancellationToken.None);
        var plain = pipeline.Generate(request, null, CancellationToken.None);
        var previewRatio = withPreviews.Denoise.TotalSeconds / plain.Denoise.TotalSeconds;
        var previewMs = TimeApproximatePreview(pipeline, o, device);
        var evals = pipeline.Schedule(request).Timesteps.Count;
        var plainPerEval = plain.Denoise.TotalSeconds / evals;
        var targetEvals = pipeline.Schedule(request with { Steps = o.TargetSteps }).Timesteps.Count;
        var perImage = plain.EncodePrompt.TotalSeconds + plainPerEval * targetEvals + plain.Decode.TotalSeconds;

        Console.WriteLine();
        Console.WriteLine("| measure | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| UNet step, CFG batch 2, {o.Size}x{o.Size} (mean of {o.UnetIterations}) | {unetSeconds:F3} s |");
        Console.WriteLine($"| VAE decode, 1 image {o.Size}x{o.Size} | {vaeSeconds:F3} s |");
        Console.WriteLine($"| end-to-end, {o.Steps} steps ({evals} UNet calls), measured | {plain.EncodePrompt.TotalSeconds + plain.Denoise.TotalSeconds + plain.Decode.TotalSeconds:F1} s " +
            $"(encode {plain.EncodePrompt.TotalSeconds:F2}, denoise {plain.Denoise.TotalSeconds:F1}, decode {plain.Decode.TotalSeconds:F1}) |");
        Console.WriteLine($"| end-to-end per image, {o.TargetSteps} steps ({targetEvals} UNet calls){(o.Steps == o.TargetSteps ? ", measured" : ", EXTRAPOLATED")} | {perImage:F1} s |");
        Console.WriteLine($"| preview overhead (denoise with approximate preview every step / without) | {previewRatio:F3} " +
            $"({withPreviews.Denoise.TotalSeconds:F1} s vs {plain.Denoise.TotalSeconds:F1} s) |");
        Console.WriteLine($"| approximate preview alone, 1 image (mean of 20) | {previewMs:F2} ms |");
    }

    private static double TimeUnet(StableDiffusionPipeline pipeline, Options o, Device device)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var unet = pipeline.Models.Unet;
        var latent = o.Size / pipeline.Models.Vae.Config.ScaleFactor;
        var crossDim = pipeline.Models.TextEncoder.Config.HiddenSize;
        var dtype = unet.parameters().First().dtype;
        var sample = randn([2, unet.Config.InChannels, latent, latent], generator: new Generator(1)).to(dtype, device);
        var context = randn([2, 77, crossDim], generator: new Generator(2)).to(dtype, device);
        var t = tensor(500L, device: device);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < o.UnetIterations; i++)
            unet.Forward(sample, t, context).Dispose();
        Sync(device);
        return clock.Elapsed.TotalSeconds / o.UnetIterations;
    }

    private static double TimeVaeDecode(StableDiffusionPipeline pipeline, Options o, Device device)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var vae = pipeline.Models.Vae;
        var latent = o.Size / vae.Config.ScaleFactor;
        var z = randn([1, vae.Config.LatentChannels, latent, latent], generator: new Generator(3)).to(vae.parameters().First().dtype, device);
        var clock = Stopwatch.StartNew();
        vae.Decode(z).Dispose();
        Sync(device);
        return clock.Elapsed.TotalSeconds;
    }

    // What an approximate preview adds to a step: the 4×3 latent→RGB map on one x̂₀ and its bytes.
    private static double TimeApproximatePreview(StableDiffusionPipeline pipeline, Options o, Device device)
    {
        using var scope = NewDisposeScope();
        var latent = o.Size / pipeline.Models.Vae.Config.ScaleFactor;
        var x0 = randn([1, 4, latent, latent], generator: new Generator(4)).to(device);
        LatentPreview.ApproximateRgb(x0);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
            LatentPreview.ApproximateRgb(x0);
        return clock.Elapsed.TotalMilliseconds / 20;
    }

    private static void Sync(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize();
    }
}
