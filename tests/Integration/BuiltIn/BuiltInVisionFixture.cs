using Grpc.Net.Client;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.BuiltIn;

/// <summary>
/// The Vision service on the built-in LLaVA (builtin-models/vision, written by `make train-vision`) behind the gateway.
/// BUILTIN_VISION_MODEL points it at another trained folder (relative to the repository root, e.g. a run under artifacts/).
/// </summary>
public sealed class BuiltInVisionFixture : IAsyncLifetime
{
    public static string ModelFolder => BuiltInFolders.Resolve("vision", "BUILTIN_VISION_MODEL");

    public ServiceProcess Vision { get; private set; } = null!;
    public ServiceProcess Gateway { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    public VisionService.VisionServiceClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(Path.Combine(ModelFolder, "model.safetensors")),
            $"no trained LLaVA at {ModelFolder}: run `make train-vision` (or set BUILTIN_VISION_MODEL to a trained folder)");
        Vision = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Vision", "Vision"), [$"--Vision:ModelPath={ModelFolder}"]);
        Gateway = await GatewayFleet.StartGatewayAsync("vision", Vision.Address);
        Channel = GrpcChannel.ForAddress(Gateway.Address);
        Client = new VisionService.VisionServiceClient(Channel);
        await GatewayFleet.WaitUntilRoutedAsync(deadline => Client.GetModelInfoAsync(new GetModelInfoRequest(), deadline: deadline).ResponseAsync);
    }

    public Task DisposeAsync()
    {
        Channel?.Dispose();
        Gateway?.Dispose();
        Vision?.Dispose();
        return Task.CompletedTask;
    }
}
