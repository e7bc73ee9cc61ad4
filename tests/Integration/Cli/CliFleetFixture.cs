using Grpc.Net.Client;
using MultiModal.Tests.Testing;
using Xunit;
using ClipV1 = MultiModal.Contracts.Clip.V1;
using DiffusionV1 = MultiModal.Contracts.Diffusion.V1;
using VisionV1 = MultiModal.Contracts.Vision.V1;

namespace MultiModal.Tests.Integration.Cli;

/// <summary>
/// What <c>make run</c> starts, on the golden tiny models: CLIP, Vision and Diffusion as real processes behind one
/// gateway, for <c>mm</c> to call as a person would. The tests also call the services directly through
/// <see cref="Channel"/> to compare what <c>mm</c> printed with what the service answers.
/// </summary>
public sealed class CliFleetFixture : IAsyncLifetime
{
    /// <summary>The options' upper limit, so the tmux test's job runs long enough to be watched and cancelled.</summary>
    public const int MaxSteps = 1000;

    public ServiceProcess Clip { get; private set; } = null!;
    public ServiceProcess Vision { get; private set; } = null!;
    public ServiceProcess Diffusion { get; private set; } = null!;
    public ServiceProcess Gateway { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;

    /// <summary>host:port of the gateway, as MM_GATEWAY takes it.</summary>
    public string GatewayAddress => $"{Gateway.Address.Host}:{Gateway.Address.Port}";

    public static string ClipImage => TestPaths.Fixture("tiny-clip", "images", "gradient_shapes_300x200.png");

    public ClipV1.ClipService.ClipServiceClient ClipClient => new(Channel);
    public VisionV1.VisionService.VisionServiceClient VisionClient => new(Channel);
    public DiffusionV1.DiffusionService.DiffusionServiceClient DiffusionClient => new(Channel);

    public async Task InitializeAsync()
    {
        // One at a time: three model loads at once on the 2-core machine only make each slower.
        Clip = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Clip", "Clip"),
            [$"--Clip:ModelPath={TestPaths.Fixture("tiny-clip", "model")}"]);
        Vision = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Vision", "Vision"),
            [$"--Vision:ModelPath={TestPaths.Fixture("llava", "tiny-llava-a")}"]);
        Diffusion = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Diffusion", "Diffusion"),
            [$"--Diffusion:ModelPath={TestPaths.Fixture("tiny-sd", "pipeline")}", "--Diffusion:ModelName=tiny-sd", $"--Diffusion:MaxSteps={MaxSteps}"]);
        Gateway = await GatewayFleet.StartGatewayAsync(new Dictionary<string, Uri>
        {
            ["clip"] = Clip.Address, ["vision"] = Vision.Address, ["diffusion"] = Diffusion.Address,
        });
        Channel = GrpcChannel.ForAddress(Gateway.Address, new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20 });
        await GatewayFleet.WaitUntilRoutedAsync(deadline => ClipClient.GetModelInfoAsync(new ClipV1.GetModelInfoRequest(), deadline: deadline).ResponseAsync);
        await GatewayFleet.WaitUntilRoutedAsync(deadline => VisionClient.GetModelInfoAsync(new VisionV1.GetModelInfoRequest(), deadline: deadline).ResponseAsync);
        await GatewayFleet.WaitUntilRoutedAsync(deadline => DiffusionClient.GetModelInfoAsync(new DiffusionV1.GetModelInfoRequest(), deadline: deadline).ResponseAsync);
    }

    /// <summary>Runs <c>mm</c> against this fleet's gateway.</summary>
    public Task<MmResult> MmAsync(params string[] arguments) => MmProcess.RunAsync(GatewayAddress, arguments);

    public Task DisposeAsync()
    {
        Channel?.Dispose();
        Gateway?.Dispose();
        Diffusion?.Dispose();
        Vision?.Dispose();
        Clip?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>One fleet for every mm test class; they run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class CliFleetCollection : ICollectionFixture<CliFleetFixture>
{
    public const string Name = "mm fleet";
}
