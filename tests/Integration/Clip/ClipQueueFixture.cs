using Grpc.Net.Client;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Clip;

/// <summary>
/// A CLIP service of its own (tiny-clip) behind the gateway, set up so its queue fills on demand: a forward pass
/// starts only when <see cref="MaxBatchSize"/> items wait or the oldest has waited <see cref="MaxBatchWaitMs"/>, and
/// only <see cref="MaxQueueLength"/> requests may wait. Single-image calls therefore sit in the queue for a full
/// second, two of them fill it, and every further call in that second is refused.
/// </summary>
public sealed class ClipQueueFixture : IAsyncLifetime
{
    public const int MaxBatchSize = 64, MaxBatchWaitMs = 1000, MaxQueueLength = 2;

    public ServiceProcess Clip { get; private set; } = null!;
    public ServiceProcess Gateway { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    public ClipService.ClipServiceClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Clip = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Clip", "Clip"),
        [
            $"--Clip:ModelPath={ClipFleetFixture.ModelFolder}", $"--Clip:MaxBatchSize={MaxBatchSize}",
            $"--Clip:MaxBatchWaitMs={MaxBatchWaitMs}", $"--Clip:MaxQueueLength={MaxQueueLength}",
        ]);
        Gateway = await GatewayFleet.StartGatewayAsync("clip", Clip.Address);
        Channel = GrpcChannel.ForAddress(Gateway.Address);
        Client = new ClipService.ClipServiceClient(Channel);
        await GatewayFleet.WaitUntilRoutedAsync(deadline => Client.GetModelInfoAsync(new GetModelInfoRequest(), deadline: deadline).ResponseAsync);
    }

    public async Task<Contracts.Common.V1.ServingStats> StatsAsync() =>
        (await Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout()).Stats;

    public Task DisposeAsync()
    {
        Channel?.Dispose();
        Gateway?.Dispose();
        Clip?.Dispose();
        return Task.CompletedTask;
    }
}
