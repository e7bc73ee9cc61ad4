using Grpc.Net.Client;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.BuiltIn;

/// <summary>The CLIP service on the committed built-in CLIP (builtin-models/clip) behind the gateway, as `make run` serves it.</summary>
public sealed class BuiltInClipFixture : IAsyncLifetime
{
    public static string ModelFolder => Path.Combine(TestPaths.RepoRoot, "builtin-models", "clip");

    public ServiceProcess Clip { get; private set; } = null!;
    public ServiceProcess Gateway { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    public ClipService.ClipServiceClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Clip = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Clip", "Clip"), [$"--Clip:ModelPath={ModelFolder}"]);
        Gateway = await GatewayFleet.StartGatewayAsync("clip", Clip.Address);
        Channel = GrpcChannel.ForAddress(Gateway.Address);
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
