using Grpc.Net.Client;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.BuiltIn;

/// <summary>
/// The Diffusion service on the built-in pipeline (builtin-models/diffusion, written by `make train-diffusion`) and the
/// CLIP service on the built-in CLIP, behind one gateway as `make run` serves them, so one service's output can be
/// checked by the other. BUILTIN_DIFFUSION_MODEL points the Diffusion service at another trained folder (relative to
/// the repository root).
/// </summary>
public sealed class BuiltInShapesFleetFixture : IAsyncLifetime
{
    public static string DiffusionFolder => BuiltInFolders.Resolve("diffusion", "BUILTIN_DIFFUSION_MODEL");

    public ServiceProcess Clip { get; private set; } = null!;
    public ServiceProcess Diffusion { get; private set; } = null!;
    public ServiceProcess Gateway { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    public ClipService.ClipServiceClient ClipClient { get; private set; } = null!;
    public DiffusionService.DiffusionServiceClient DiffusionClient { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(Path.Combine(DiffusionFolder, "model_index.json")),
            $"no trained pipeline at {DiffusionFolder}: run `make train-diffusion` (or set BUILTIN_DIFFUSION_MODEL to a trained folder)");
        Clip = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Clip", "Clip"), [$"--Clip:ModelPath={BuiltInClipFixture.ModelFolder}"]);
        Diffusion = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Diffusion", "Diffusion"), [$"--Diffusion:ModelPath={DiffusionFolder}"]);
        Gateway = await GatewayFleet.StartGatewayAsync(new Dictionary<string, Uri> { ["clip"] = Clip.Address, ["diffusion"] = Diffusion.Address });
        Channel = GrpcChannel.ForAddress(Gateway.Address);
        ClipClient = new ClipService.ClipServiceClient(Channel);
        DiffusionClient = new DiffusionService.DiffusionServiceClient(Channel);
        await GatewayFleet.WaitUntilRoutedAsync(deadline => ClipClient.GetModelInfoAsync(new Contracts.Clip.V1.GetModelInfoRequest(), deadline: deadline).ResponseAsync);
        await GatewayFleet.WaitUntilRoutedAsync(deadline =>
            DiffusionClient.GetModelInfoAsync(new Contracts.Diffusion.V1.GetModelInfoRequest(), deadline: deadline).ResponseAsync);
    }

    public Task DisposeAsync()
    {
        Channel?.Dispose();
        Gateway?.Dispose();
        Diffusion?.Dispose();
        Clip?.Dispose();
        return Task.CompletedTask;
    }
}
