using System.Diagnostics;
using Google.Protobuf;
using Grpc.Net.Client;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Models.Runtime;
using MultiModal.Tests.Testing;

namespace MultiModal.Tests.Bench;

/// <summary>
/// Where a served CLIP image's CPU goes: the CLIP service (float32) and a gateway as real processes on loopback, the
/// 640×480 JPEG of <see cref="ClipBench"/>. (1) Sequential single-image calls, gateway and direct alternated call by
/// call: latency percentiles. (2) 64 concurrent single-image clients, gateway and direct alternated in 4 phases of
/// <c>--seconds</c>: images/s and CPU milliseconds per image of each process (service, gateway, this client), from
/// the processes' own CPU time. The first phase of each path after start-up is printed but is the warm-up of its 64 streams.
/// </summary>
public static class ServedCostBench
{
    public static async Task RunAsync(string modelFolder, int calls, TimeSpan phase)
    {
        var jpeg = ClipBench.SyntheticJpeg(640, 480);
        using var clip = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Clip", "Clip"),
            [$"--Clip:ModelPath={modelFolder}", "--Clip:DType=float32"], startTimeout: TimeSpan.FromMinutes(3));
        using var gateway = await ServiceProcess.StartAsync(BuildOutputs.Dll("gateway", "Gateway"), [$"--Gateway:Upstreams:Clip={clip.Address}"]);
        using var gatewayChannel = GrpcChannel.ForAddress(gateway.Address, new GrpcChannelOptions { MaxSendMessageSize = 64 << 20 });
        using var directChannel = GrpcChannel.ForAddress(clip.Address, new GrpcChannelOptions { MaxSendMessageSize = 64 << 20 });
        var paths = new[]
        {
            (Name: "gateway", Client: new ClipService.ClipServiceClient(gatewayChannel)),
            (Name: "direct", Client: new ClipService.ClipServiceClient(directChannel)),
        };
        var request = new EmbedImagesRequest { Images = { new Contracts.Common.V1.Image { Data = ByteString.CopyFrom(jpeg) } } };
        Console.WriteLine($"model {modelFolder} (float32); CPU {CpuFeatures.ModelName}; {Environment.ProcessorCount} logical CPUs; JPEG 640x480 ({jpeg.Length / 1024} KiB)");

        var latencies = paths.ToDictionary(p => p.Name, _ => new List<double>());
        for (var i = 0; i < 5; i++)
            foreach (var (_, client) in paths)
                await client.EmbedImagesAsync(request);
        for (var i = 0; i < calls; i++)
            foreach (var (name, client) in paths)
            {
                var watch = Stopwatch.StartNew();
                await client.EmbedImagesAsync(request);
                latencies[name].Add(watch.Elapsed.TotalMilliseconds);
            }
        Console.WriteLine();
        Console.WriteLine($"| sequential single-image calls ({calls} each, alternated) | p10 ms | p50 ms | p90 ms | max ms | mean ms |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var (name, list) in latencies)
        {
            list.Sort();
            Console.WriteLine($"| {name} | {list[list.Count / 10]:F1} | {list[list.Count / 2]:F1} | {list[list.Count * 9 / 10]:F1} | {list[^1]:F1} | {list.Average():F1} |");
        }

        Console.WriteLine();
        Console.WriteLine($"| 64 concurrent single-image clients, {phase.TotalSeconds:F0} s per phase | img/s | CPU ms per image: service | gateway | client (this process) |");
        Console.WriteLine("|---|---|---|---|---|");
        for (var round = 0; round < 2; round++)
            foreach (var (name, client) in paths)
            {
                var before = (Service: CpuTime(clip.ProcessId), Gateway: CpuTime(gateway.ProcessId), Client: Process.GetCurrentProcess().TotalProcessorTime);
                var watch = Stopwatch.StartNew();
                var images = 0;
                async Task Client()
                {
                    while (watch.Elapsed < phase)
                    {
                        await client.EmbedImagesAsync(request);
                        Interlocked.Increment(ref images);
                    }
                }
                await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Client()));
                var seconds = watch.Elapsed.TotalSeconds;
                double PerImage(TimeSpan after, TimeSpan start) => (after - start).TotalMilliseconds / images;
                Console.WriteLine($"| {name}, phase {round + 1}{(round == 0 ? " (warm-up of the streams)" : "")} | {images / seconds:F1} | " +
                    $"{PerImage(CpuTime(clip.ProcessId), before.Service):F1} | {PerImage(CpuTime(gateway.ProcessId), before.Gateway):F1} | " +
                    $"{PerImage(Process.GetCurrentProcess().TotalProcessorTime, before.Client):F1} |");
            }
    }

    private static TimeSpan CpuTime(int processId)
    {
        using var process = Process.GetProcessById(processId);
        return process.TotalProcessorTime;
    }
}
