using System.Diagnostics;
using Google.Protobuf;
using Grpc.Net.Client;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Models.Clip;
using MultiModal.Models.Imaging;
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
    public static async Task RunAsync(string modelFolder, TimeSpan budget)
    {
        var jpeg = SyntheticJpeg(640, 480);
        var processor = ClipImageProcessor.FromFolder(modelFolder);
        var pixels = processor.Preprocess(ImageDecoder.Decode(jpeg, new ImageLimits()));
        Console.WriteLine($"model {modelFolder}; input JPEG 640x480 ({jpeg.Length / 1024} KiB) -> {processor.ImageSize}px; torch threads {get_num_threads()}");

        // 0. What the served path adds before the model: JPEG decode + Pillow-exact resize + normalise, one thread.
        var preprocessPerSecond = PreprocessPerSecond(jpeg, processor, budget / 2);

        // 1. Plain forward pass, this process, same tensors.
        double plain1, plain32;
        using (var model = ClipCheckpoint.Load(modelFolder, CPU, ScalarType.Float32))
        {
            plain1 = ImagesPerSecond(model, pixels, processor.ImageSize, batch: 1, budget);
            plain32 = ImagesPerSecond(model, pixels, processor.ImageSize, batch: 32, budget);
        }

        // 2. The same model served: CLIP service + gateway as real processes on loopback.
        using var clip = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Clip", "Clip"), [$"--Clip:ModelPath={modelFolder}"],
            startTimeout: TimeSpan.FromMinutes(3));
        using var gateway = await ServiceProcess.StartAsync(BuildOutputs.Dll("gateway", "Gateway"), [$"--Gateway:Upstreams:Clip={clip.Address}"]);
        using var channel = GrpcChannel.ForAddress(gateway.Address, new GrpcChannelOptions { MaxSendMessageSize = 64 << 20 });
        var client = new ClipService.ClipServiceClient(channel);
        await WarmUpAsync(client, jpeg);

        var served1 = await ServedAsync(client, jpeg, imagesPerCall: 1, concurrency: 1, budget);
        var served32 = await ServedAsync(client, jpeg, imagesPerCall: 32, concurrency: 1, budget);
        var served64 = await ServedAsync(client, jpeg, imagesPerCall: 1, concurrency: 64, budget);
        var stats = (await client.GetModelInfoAsync(new GetModelInfoRequest())).Stats;

        Console.WriteLine();
        Console.WriteLine("| case | plain forward (img/s) | through gateway (img/s) | ratio served/plain |");
        Console.WriteLine("|---|---|---|---|");
        Row("batch 1 (sequential calls, 1 image each)", plain1, served1);
        Row("batch 32 (one call with 32 images)", plain32, served32);
        Row("64 concurrent single-image clients (vs plain batch 32)", plain32, served64);
        Console.WriteLine($"\nJPEG decode + preprocess alone (one thread): {preprocessPerSecond:F1} img/s ({1000 / preprocessPerSecond:F1} ms per image)");
        Console.WriteLine($"server batching: {stats.BatchesRun} passes for {stats.ItemsRun} images, largest pass {stats.MaxRequestsInBatch} requests");
    }

    private static void Row(string name, double plain, double served) =>
        Console.WriteLine($"| {name} | {plain:F1} | {served:F1} | {served / plain:F2} |");

    private static double ImagesPerSecond(ClipModel model, float[] pixels, int size, int batch, TimeSpan budget)
    {
        var flat = Enumerable.Repeat(pixels, batch).SelectMany(p => p).ToArray();
        using var input = tensor(flat, [batch, 3, size, size]);
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

    private static double PreprocessPerSecond(byte[] jpeg, ClipImageProcessor processor, TimeSpan budget)
    {
        processor.Preprocess(ImageDecoder.Decode(jpeg, new ImageLimits()));
        var watch = Stopwatch.StartNew();
        var images = 0;
        while (watch.Elapsed < budget || images < 3)
        {
            processor.Preprocess(ImageDecoder.Decode(jpeg, new ImageLimits()));
            images++;
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
