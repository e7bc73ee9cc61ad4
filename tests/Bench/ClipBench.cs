using System.Diagnostics;
using Google.Protobuf;
using Grpc.Net.Client;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Models.Clip;
using MultiModal.Models.Imaging;
using MultiModal.Models.Runtime;
using MultiModal.Tests.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Tests.Bench;

/// <summary>
/// EmbedImages throughput through the gateway (JPEG in: decode + preprocess + queue + batch + forward + network)
/// against a plain forward pass of the same model on the same preprocessed tensors, measured in the same run.
/// </summary>
public static class ClipBench
{
    /// <param name="dtype">the service's <c>Clip:DType</c>; null leaves its default (auto).</param>
    /// <param name="ortDir">the peer kit's ONNX exports: ONNX Runtime's float32 image forward then runs in the same
    /// rotation (batch 1 beside the batch-1 case, batch 32 beside the others), so served/ORT is measured in one run.</param>
    public static async Task RunAsync(string modelFolder, TimeSpan budget, string? dtype = null, string? ortDir = null)
    {
        var jpeg = SyntheticJpeg(640, 480);
        var processor = ClipImageProcessor.FromFolder(modelFolder);
        var pixels = processor.Preprocess(ImageDecoder.Decode(jpeg, new ImageLimits()));
        Console.WriteLine($"model {modelFolder}; input JPEG 640x480 ({jpeg.Length / 1024} KiB) -> {processor.ImageSize}px; torch threads {get_num_threads()}");

        // 0. What the served path adds before the model, one thread: JPEG decode, then Pillow-exact resize + crop +
        //    normalise (the windowed resize against the full resize + crop it replaced, interleaved).
        var steps = PreprocessSteps(jpeg, processor, budget / 2);

        // 1. The plain forward pass (this process, same tensors) and 2. the same model served: CLIP service + gateway
        //    as real processes on loopback, the clients calling the gateway and, to see what the proxy hop costs, the
        //    service directly. The three run in alternating rounds (plain, gateway, direct, plain, ...) so that load
        //    from other jobs on the machine hits all three alike; only one of them runs at a time.
        //    The plain forward runs in the dtype the service chose (DType=auto: bfloat16 on CPUs with native bf16).
        string[] serviceArgs = dtype is null ? [$"--Clip:ModelPath={modelFolder}"] : [$"--Clip:ModelPath={modelFolder}", $"--Clip:DType={dtype}"];
        using var clip = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Clip", "Clip"), serviceArgs,
            startTimeout: TimeSpan.FromMinutes(3));
        using var gateway = await ServiceProcess.StartAsync(BuildOutputs.Dll("gateway", "Gateway"), [$"--Gateway:Upstreams:Clip={clip.Address}"]);
        using var gatewayChannel = GrpcChannel.ForAddress(gateway.Address, new GrpcChannelOptions { MaxSendMessageSize = 64 << 20 });
        using var directChannel = GrpcChannel.ForAddress(clip.Address, new GrpcChannelOptions { MaxSendMessageSize = 64 << 20 });
        var viaGateway = new ClipService.ClipServiceClient(gatewayChannel);
        var direct = new ClipService.ClipServiceClient(directChannel);
        await WarmUpAsync(viaGateway, jpeg);
        await WarmUpAsync(direct, jpeg);
        var servedDtype = TorchRuntime.ResolveDType((await direct.GetModelInfoAsync(new GetModelInfoRequest())).Dtype, CPU);
        using var model = ClipCheckpoint.Load(modelFolder, CPU, servedDtype);
        model.PackForInference();                    // as the service does (float32 on the CPU only)
        Console.WriteLine($"service and plain forward in {TorchRuntime.Name(servedDtype)}" +
                          (ortDir is null ? "" : $"; ONNX Runtime {Peers.OrtRunner.Version} float32 (the kit's clip_vitb32_image.onnx) in the same rotation"));
        using var ort1 = ortDir is null ? null : OrtImages(ortDir, pixels, processor.ImageSize, batch: 1);
        using var ort32 = ortDir is null ? null : OrtImages(ortDir, pixels, processor.ImageSize, batch: 32);

        Result served1, served32, served64;
        try
        {
            served1 = await AlternatingAsync(() => ImagesPerSecond(model, pixels, processor.ImageSize, batch: 1, budget / 3),
                ort1, viaGateway, direct, jpeg, imagesPerCall: 1, concurrency: 1, budget);
            served32 = await AlternatingAsync(() => ImagesPerSecond(model, pixels, processor.ImageSize, batch: 32, budget / 3),
                ort32, viaGateway, direct, jpeg, imagesPerCall: 32, concurrency: 1, budget);
            served64 = await AlternatingAsync(() => ImagesPerSecond(model, pixels, processor.ImageSize, batch: 32, budget / 3),
                ort32, viaGateway, direct, jpeg, imagesPerCall: 1, concurrency: 64, budget);
        }
        catch (Grpc.Core.RpcException)
        {
            Console.Error.WriteLine($"--- CLIP service output ---\n{clip.Output}\n--- gateway output ---\n{gateway.Output}");
            throw;
        }
        var stats = (await viaGateway.GetModelInfoAsync(new GetModelInfoRequest())).Stats;

        Console.WriteLine();
        Console.WriteLine("| case | plain forward (img/s) | through gateway (img/s) | direct to service (img/s) | gateway/plain | direct/plain |" +
                          (ortDir is null ? "" : " ORT float32 forward (img/s) | gateway/ORT | direct/ORT |"));
        Console.WriteLine("|---|---|---|---|---|---|" + (ortDir is null ? "" : "---|---|---|"));
        Row("batch 1 (sequential calls, 1 image each)", served1);
        Row("batch 32 (one call with 32 images)", served32);
        Row("64 concurrent single-image clients (vs plain batch 32)", served64);
        Console.WriteLine($"\nOne thread, per 640x480 JPEG: decode {steps.DecodeMs:F2} ms; resize + crop + normalise {steps.WindowedMs:F2} ms " +
            $"(full resize, then crop + normalise: {steps.FullMs:F2} ms); decode + preprocess {1000 / (steps.DecodeMs + steps.WindowedMs):F1} img/s");
        Console.WriteLine($"server batching: {stats.BatchesRun} passes for {stats.ItemsRun} images, largest pass {stats.MaxRequestsInBatch} requests");
    }

    private sealed record Result(double Plain, double Gateway, double Direct, double? Ort);

    private static void Row(string name, Result r) =>
        Console.WriteLine($"| {name} | {r.Plain:F1} | {r.Gateway:F1} | {r.Direct:F1} | {r.Gateway / r.Plain:F2} | {r.Direct / r.Plain:F2} |" +
                          (r.Ort is { } ort ? $" {ort:F1} | **{r.Gateway / ort:F2}** | {r.Direct / ort:F2} |" : ""));

    // Three rounds, the order of (plain, [ORT,] gateway, direct) rotated each round so that each runs first once
    // (the gateway route, always run right after the bench's own forward pass, had measured 0.65-0.69x of plain
    // where direct measured 0.81-0.85x); budget / 3 each; images/s of each = the mean over its rounds.
    private static async Task<Result> AlternatingAsync(Func<double> plain, OrtImageForward? ort, ClipService.ClipServiceClient viaGateway,
        ClipService.ClipServiceClient direct, byte[] jpeg, int imagesPerCall, int concurrency, TimeSpan budget)
    {
        const int rounds = 3;
        var measure = new List<Func<Task<double>>>
        {
            () => Task.FromResult(plain()),
            () => ServedAsync(viaGateway, jpeg, imagesPerCall, concurrency, budget / rounds),
            () => ServedAsync(direct, jpeg, imagesPerCall, concurrency, budget / rounds),
        };
        if (ort is not null)
            measure.Add(() => Task.FromResult(ort.ImagesPerSecond(budget / rounds)));
        var sums = new double[measure.Count];
        for (var round = 0; round < rounds; round++)
            for (var k = 0; k < measure.Count; k++)
            {
                var path = (k + round) % measure.Count;
                sums[path] += await measure[path]() / rounds;
            }
        return new Result(sums[0], sums[1], sums[2], ort is null ? null : sums[3]);
    }

    // ORT's session on the kit's dynamic-batch image tower, the same preprocessed pixels repeated to the batch.
    private static OrtImageForward OrtImages(string ortDir, float[] pixels, int size, int batch)
    {
        var flat = Enumerable.Repeat(pixels, batch).SelectMany(p => p).ToArray();
        var ort = new Peers.OrtRunner(Path.Combine(Path.GetFullPath(ortDir), "clip_vitb32_image.onnx"),
            [("pixel_values", Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(flat, [batch, 3, size, size]))], "image_embeds");
        ort.Run();                                   // warm-up
        return new OrtImageForward(ort, batch);
    }

    private sealed class OrtImageForward(Peers.OrtRunner ort, int batch) : IDisposable
    {
        public double ImagesPerSecond(TimeSpan budget)
        {
            var watch = Stopwatch.StartNew();
            var images = 0;
            while (watch.Elapsed < budget || images < batch * 3)
            {
                ort.Run();
                images += batch;
            }
            return images / watch.Elapsed.TotalSeconds;
        }

        public void Dispose() => ort.Dispose();
    }

    private sealed record Steps(double DecodeMs, double WindowedMs, double FullMs);

    // Milliseconds per image of each step, the two resize variants interleaved (ABAB) so machine noise hits both.
    private static Steps PreprocessSteps(byte[] jpeg, ClipImageProcessor processor, TimeSpan budget)
    {
        var decoded = ImageDecoder.Decode(jpeg, new ImageLimits());
        var output = new float[3 * processor.ImageSize * processor.ImageSize];
        var decode = TimeOf(() => ImageDecoder.Decode(jpeg, new ImageLimits()), budget / 3);
        double windowed = 0, full = 0;
        for (var round = 0; round < 4; round++)
        {
            windowed += TimeOf(() => processor.PreprocessInto(decoded, output), budget / 12) / 4;
            full += TimeOf(() => FullResizeThenCrop(processor, decoded), budget / 12) / 4;
        }
        return new Steps(decode, windowed, full);
    }

    // The pre-window path, for comparison: resize the whole image, crop the center, normalise per pixel.
    private static float[] FullResizeThenCrop(ClipImageProcessor processor, DecodedImage image)
    {
        var c = processor.Config;
        var size = c.ShortestEdge ?? processor.ImageSize;
        var (w, h) = image.Width <= image.Height
            ? (size, (int)((double)((long)size * image.Height) / image.Width))
            : ((int)((double)((long)size * image.Width) / image.Height), size);
        var rgb = PilResize.Resize(image.Rgb, image.Width, image.Height, 3, w, h, c.Resample);
        var crop = processor.ImageSize;
        int top = (h - crop) / 2, left = (w - crop) / 2, plane = crop * crop;
        var output = new float[3 * plane];
        for (var ch = 0; ch < 3; ch++)
            for (var y = 0; y < crop; y++)
                for (var x = 0; x < crop; x++)
                {
                    var v = (float)(rgb[((y + top) * w + x + left) * 3 + ch] * c.RescaleFactor);
                    output[ch * plane + y * crop + x] = (v - c.ImageMean[ch]) / c.ImageStd[ch];
                }
        return output;
    }

    private static double TimeOf(Action action, TimeSpan budget)
    {
        action();
        var watch = Stopwatch.StartNew();
        var n = 0;
        while (watch.Elapsed < budget || n < 3)
        {
            action();
            n++;
        }
        return watch.Elapsed.TotalMilliseconds / n;
    }

    private static double ImagesPerSecond(ClipModel model, float[] pixels, int size, int batch, TimeSpan budget)
    {
        var flat = Enumerable.Repeat(pixels, batch).SelectMany(p => p).ToArray();
        using var input = tensor(flat, [batch, 3, size, size]).to(model.parameters().First().dtype);
        void Once() { using var scope = NewDisposeScope(); using var _ = inference_mode(); model.GetImageFeatures(input); }
        Once(); // warm-up
        var watch = Stopwatch.StartNew();
        var images = 0;
        while (watch.Elapsed < budget || images < batch * 3)
        {
            Once();
            images += batch;
        }
        return images / watch.Elapsed.TotalSeconds;
    }

    private static async Task WarmUpAsync(ClipService.ClipServiceClient client, byte[] jpeg)
    {
        for (var i = 0; i < 3; i++)
            await client.EmbedImagesAsync(Request(jpeg, 1));
    }

    private static async Task<double> ServedAsync(ClipService.ClipServiceClient client, byte[] jpeg, int imagesPerCall, int concurrency, TimeSpan budget)
    {
        var request = Request(jpeg, imagesPerCall);
        var watch = Stopwatch.StartNew();
        var images = 0;
        async Task Worker()
        {
            while (watch.Elapsed < budget)
            {
                await client.EmbedImagesAsync(request);
                Interlocked.Add(ref images, imagesPerCall);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Worker()));
        return images / watch.Elapsed.TotalSeconds;
    }

    private static EmbedImagesRequest Request(byte[] jpeg, int n) => new()
    {
        Images = { Enumerable.Range(0, n).Select(_ => new Contracts.Common.V1.Image { Data = ByteString.CopyFrom(jpeg) }) },
    };

    // A deterministic photo-like test card: gradients plus rings, JPEG quality 90.
    internal static byte[] SyntheticJpeg(int width, int height)
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
        return ImageEncoder.EncodeJpeg(new DecodedImage(width, height, rgb), 90);
    }
}
