using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;
using MultiModal.Tests.Testing;
using ClipV1 = MultiModal.Contracts.Clip.V1;
using DiffusionV1 = MultiModal.Contracts.Diffusion.V1;
using VisionV1 = MultiModal.Contracts.Vision.V1;

namespace MultiModal.Tests.Bench.Fleet;

/// <summary>
/// The whole fleet as real processes on loopback, as <c>make run</c> starts it but on free ports: CLIP, Vision and
/// Diffusion on the built-in models (<c>make models</c>) plus the gateway, each with its Prometheus <c>/metrics</c> on
/// its own loopback port so the benches can read the managed heap. Clients go through the gateway.
/// </summary>
public sealed class BenchFleet : IAsyncDisposable
{
    private BenchFleet(IReadOnlyList<FleetProcess> processes, GrpcChannel channel)
    {
        Processes = processes;
        Channel = channel;
        Clip = new ClipV1.ClipService.ClipServiceClient(channel);
        Vision = new VisionV1.VisionService.VisionServiceClient(channel);
        Diffusion = new DiffusionV1.DiffusionService.DiffusionServiceClient(channel);
    }

    /// <summary>clip, vision, diffusion, gateway, in that order.</summary>
    public IReadOnlyList<FleetProcess> Processes { get; }

    public GrpcChannel Channel { get; }
    public ClipV1.ClipService.ClipServiceClient Clip { get; }
    public VisionV1.VisionService.VisionServiceClient Vision { get; }
    public DiffusionV1.DiffusionService.DiffusionServiceClient Diffusion { get; }

    /// <summary>
    /// Starts the fleet on the models under <paramref name="modelsFolder"/> (clip/, llava/, sd/) and waits until the
    /// gateway routes to every service. <paramref name="serviceArguments"/> adds options per service name.
    /// </summary>
    public static async Task<BenchFleet> StartAsync(string modelsFolder, Func<string, IEnumerable<string>>? serviceArguments = null)
    {
        var models = Path.GetFullPath(modelsFolder);
        var started = new List<FleetProcess>();
        try
        {
            async Task<FleetProcess> Start(string name, string project, string dll, params string[] arguments)
            {
                var metricsPort = FreePort();
                var process = await ServiceProcess.StartAsync(BuildOutputs.Dll(project, dll),
                    [.. arguments, $"--Telemetry:PrometheusPort={metricsPort}", "--Telemetry:PrometheusHost=127.0.0.1",
                     .. serviceArguments?.Invoke(name) ?? []],
                    startTimeout: TimeSpan.FromMinutes(3));
                var fleetProcess = new FleetProcess(name, process, metricsPort);
                started.Add(fleetProcess);
                return fleetProcess;
            }

            var clip = await Start("clip", "services/Clip", "Clip", $"--Clip:ModelPath={Path.Combine(models, "clip")}");
            var vision = await Start("vision", "services/Vision", "Vision", $"--Vision:ModelPath={Path.Combine(models, "llava")}");
            var diffusion = await Start("diffusion", "services/Diffusion", "Diffusion", $"--Diffusion:ModelPath={Path.Combine(models, "sd")}");
            await Start("gateway", "gateway", "Gateway",
                $"--Gateway:Upstreams:Clip={clip.Process.Address}", $"--Gateway:Upstreams:Vision={vision.Process.Address}",
                $"--Gateway:Upstreams:Diffusion={diffusion.Process.Address}");

            var channel = GrpcChannel.ForAddress(started[^1].Process.Address, new GrpcChannelOptions
            {
                MaxSendMessageSize = 64 << 20,
                MaxReceiveMessageSize = 64 << 20,
            });
            var fleet = new BenchFleet(started, channel);
            await GatewayFleet.WaitUntilRoutedAsync(d => fleet.Clip.GetModelInfoAsync(new ClipV1.GetModelInfoRequest(), deadline: d).ResponseAsync);
            await GatewayFleet.WaitUntilRoutedAsync(d => fleet.Vision.GetModelInfoAsync(new VisionV1.GetModelInfoRequest(), deadline: d).ResponseAsync);
            await GatewayFleet.WaitUntilRoutedAsync(d => fleet.Diffusion.GetModelInfoAsync(new DiffusionV1.GetModelInfoRequest(), deadline: d).ResponseAsync);
            return fleet;
        }
        catch
        {
            foreach (var p in started)
                p.Process.Dispose();
            throw;
        }
    }

    public FleetProcess this[string name] => Processes.Single(p => p.Name == name);

    public ValueTask DisposeAsync()
    {
        Channel.Dispose();
        foreach (var p in Processes.Reverse())
            p.Process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One process of the fleet: its name, the running process and its Prometheus port.</summary>
public sealed record FleetProcess(string Name, ServiceProcess Process, int MetricsPort);
