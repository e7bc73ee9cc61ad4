using Grpc.Core;
using Grpc.Net.Client;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Diffusion;

/// <summary>
/// The Diffusion service and the gateway as real processes on 127.0.0.1, serving the golden tiny-sd pipeline; tests
/// call through the gateway, as users do. One fleet for the whole collection: its tests run one after another, so
/// queue positions and counters are theirs alone.
/// </summary>
public sealed class DiffusionFleetFixture : IAsyncLifetime
{
    /// <summary>Jobs allowed to wait; small so that a test can fill the queue.</summary>
    public const int MaxQueueLength = 2;

    /// <summary>The most steps a job may ask for: the options' upper limit, so the queue tests' blocker runs until cancelled.</summary>
    public const int MaxSteps = 1000;

    public static string PipelineFolder => TestPaths.Fixture("tiny-sd", "pipeline");

    /// <summary>The service's Prometheus port (Telemetry:PrometheusPort).</summary>
    public int MetricsPort { get; } = PrometheusScrape.FreePort();

    public ServiceProcess Diffusion { get; private set; } = null!;
    public ServiceProcess Gateway { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    public DiffusionService.DiffusionServiceClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Diffusion = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Diffusion", "Diffusion"),
        [
            $"--Diffusion:ModelPath={PipelineFolder}",
            "--Diffusion:ModelName=tiny-sd",
            $"--Diffusion:MaxQueueLength={MaxQueueLength}",
            // Heartbeats every second instead of 5, so a test sees several while a job waits.
            "--Diffusion:HeartbeatSeconds=1",
            $"--Diffusion:MaxSteps={MaxSteps}",
            $"--Telemetry:PrometheusPort={MetricsPort}",
        ]);
        Gateway = await GatewayFleet.StartGatewayAsync("diffusion", Diffusion.Address);
        Channel = GrpcChannel.ForAddress(Gateway.Address, new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20 });
        Client = new DiffusionService.DiffusionServiceClient(Channel);
        await GatewayFleet.WaitUntilRoutedAsync(deadline => Client.GetModelInfoAsync(new GetModelInfoRequest(), deadline: deadline).ResponseAsync);
    }

    /// <summary>The service's counters, straight from GetModelInfo.</summary>
    public async Task<GetModelInfoResponse> InfoAsync() =>
        await Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout();

    /// <summary>GetModelInfo until <paramref name="done"/> holds (the client may see its own deadline before the server does).</summary>
    public async Task<GetModelInfoResponse> InfoWhenAsync(Func<GetModelInfoResponse, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var info = await InfoAsync();
            if (done(info) || DateTime.UtcNow > deadline)
                return info;
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Waits until nothing runs or waits, e.g. after a test cancelled a job: a one-step probe job that is told
    /// position 0 on enqueue had nothing ahead of it.
    /// </summary>
    public async Task WaitUntilIdleAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var probe = Client.GenerateImage(new GenerateImageRequest { Prompt = "idle?", Steps = 1 }, deadline: DateTime.UtcNow.AddSeconds(30));
            Assert.True(await probe.ResponseStream.MoveNext().DefaultTimeout());
            var idle = probe.ResponseStream.Current.Queued.Position == 0;
            while (await probe.ResponseStream.MoveNext().DefaultTimeout())
            {
            }
            if (idle)
                return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("the Diffusion service stayed busy");
            await Task.Delay(50);
        }
    }

    public Task DisposeAsync()
    {
        Channel?.Dispose();
        Gateway?.Dispose();
        Diffusion?.Dispose();
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class DiffusionFleetCollection : ICollectionFixture<DiffusionFleetFixture>
{
    public const string Name = "diffusion fleet";
}
