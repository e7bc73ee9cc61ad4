using Grpc.Net.Client;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Clip;

/// <summary>
/// The CLIP service and the gateway as real processes on 127.0.0.1, serving the golden tiny-clip folder; tests call
/// through the gateway, as users do.
/// </summary>
public sealed class ClipFleetFixture : IAsyncLifetime
{
    public static string ModelFolder => TestPaths.Fixture("tiny-clip", "model");

    public ServiceProcess Clip { get; private set; } = null!;
    public ServiceProcess Gateway { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    public ClipService.ClipServiceClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Clip = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Clip", "Clip"),
        [
            $"--Clip:ModelPath={ModelFolder}",
            // The golden comparisons are float32's numbers; auto would pick bfloat16 on CPUs with avx512_bf16.
            "--Clip:DType=float32",
            // A wider batching window than the default 5 ms, so 64 concurrent calls on a busy 2-core CI machine
            // reliably meet in shared batches.
            "--Clip:MaxBatchWaitMs=25",
        ]);
        Gateway = await GatewayFleet.StartGatewayAsync("clip", Clip.Address);
        Channel = GrpcChannel.ForAddress(Gateway.Address, new GrpcChannelOptions
        {
            MaxSendMessageSize = 100 << 20,
            MaxReceiveMessageSize = 100 << 20,
        });
        Client = new ClipService.ClipServiceClient(Channel);
        await GatewayFleet.WaitUntilRoutedAsync(deadline => Client.GetModelInfoAsync(new GetModelInfoRequest(), deadline: deadline).ResponseAsync);
    }

    public Task DisposeAsync()
    {
        Channel?.Dispose();
        Gateway?.Dispose();
        Clip?.Dispose();
        return Task.CompletedTask;
    }
}
