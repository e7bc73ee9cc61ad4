using System.ClientModel;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using MultiModal.Tests.Integration.Vision;
using MultiModal.Tests.Testing;
using OpenAI;
using Xunit;
using ClipV1 = MultiModal.Contracts.Clip.V1;
using DiffusionV1 = MultiModal.Contracts.Diffusion.V1;
using VisionV1 = MultiModal.Contracts.Vision.V1;

namespace MultiModal.Tests.Integration.OpenAi;

/// <summary>
/// The fleet as <c>make run</c> starts it (CLIP, Vision, Diffusion as real processes, and the gateway routing to all
/// three), on the golden tiny models, with an API key required. Two gateways share the services: <see cref="Gateway"/>
/// fetches images from the loopback <see cref="ImageHost"/> (its names on AllowedHosts, 127.0.0.0/8 on
/// AllowedNetworks); <see cref="GuardedGateway"/> has the same AllowedHosts but no AllowedNetworks, so the address
/// check alone must refuse them. <c>img.localtest</c> and <c>img-other.localtest</c> resolve to 127.0.0.1 through
/// ResolveOverrides, never through DNS or /etc/hosts; only img.localtest is allowed.
/// </summary>
public sealed class OpenAiFleetFixture : IAsyncLifetime
{
    public const string Key = "rest-sdk-test-key";
    public static readonly string[] ImageHostNames = ["127.0.0.1", "localhost", "img.localtest"];

    public ServiceProcess Clip { get; private set; } = null!;
    public ServiceProcess Vision { get; private set; } = null!;
    public ServiceProcess Diffusion { get; private set; } = null!;
    public ServiceProcess Gateway { get; private set; } = null!;
    public ServiceProcess GuardedGateway { get; private set; } = null!;
    public LoopbackImageHost ImageHost { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    public Metadata Bearer { get; } = new() { { "authorization", "Bearer " + Key } };

    /// <summary>The official SDK's client, unmodified apart from base URL and key.</summary>
    public OpenAIClient Sdk(string key = Key, ServiceProcess? gateway = null) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri((gateway ?? Gateway).Address, "/v1"), NetworkTimeout = Testing.TaskExtensions.DefaultTimeoutSpan });

    /// <summary>A plain HTTP/1.1 client for raw JSON (as curl sends it), with the key.</summary>
    public HttpClient Http(ServiceProcess? gateway = null)
    {
        var client = new HttpClient { BaseAddress = (gateway ?? Gateway).Address, Timeout = Testing.TaskExtensions.DefaultTimeoutSpan };
        client.DefaultRequestHeaders.Authorization = new("Bearer", Key);
        return client;
    }

    public async Task InitializeAsync()
    {
        ImageHost = await LoopbackImageHost.StartAsync(VisionFleetFixture.LoadImage("circle_64x48").Data.ToByteArray());
        // One after another, each kept as soon as it listens, so that a failed start leaves nothing running behind.
        Clip = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Clip", "Clip"), [$"--Clip:ModelPath={TestPaths.Fixture("tiny-clip", "model")}"]);
        Vision = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Vision", "Vision"), [$"--Vision:ModelPath={VisionFleetFixture.ModelFolder}"]);
        Diffusion = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Diffusion", "Diffusion"), [$"--Diffusion:ModelPath={TestPaths.Fixture("tiny-sd", "pipeline")}"]);

        string[] common =
        [
            "--Gateway:ApiKeys:0:Name=sdk", $"--Gateway:ApiKeys:0:Sha256={Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key)))}",
            $"--Gateway:Upstreams:Clip={Clip.Address}", $"--Gateway:Upstreams:Vision={Vision.Address}", $"--Gateway:Upstreams:Diffusion={Diffusion.Address}",
            .. ImageHostNames.Select((h, i) => $"--Gateway:ImageFetch:AllowedHosts:{i}={h}"),
            "--Gateway:ImageFetch:ResolveOverrides:img.localtest=127.0.0.1",
            "--Gateway:ImageFetch:ResolveOverrides:img-other.localtest=127.0.0.1",
        ];
        Gateway = await ServiceProcess.StartAsync(BuildOutputs.Dll("gateway", "Gateway"), [.. common, "--Gateway:ImageFetch:AllowedNetworks:0=127.0.0.0/8"]);
        GuardedGateway = await ServiceProcess.StartAsync(BuildOutputs.Dll("gateway", "Gateway"), common);

        Channel = GrpcChannel.ForAddress(Gateway.Address);
        foreach (var channel in new[] { Channel, GrpcChannel.ForAddress(GuardedGateway.Address) })
        {
            await GatewayFleet.WaitUntilRoutedAsync(d => new VisionV1.VisionService.VisionServiceClient(channel).GetModelInfoAsync(new(), Bearer, d).ResponseAsync);
            await GatewayFleet.WaitUntilRoutedAsync(d => new ClipV1.ClipService.ClipServiceClient(channel).GetModelInfoAsync(new(), Bearer, d).ResponseAsync);
            await GatewayFleet.WaitUntilRoutedAsync(d => new DiffusionV1.DiffusionService.DiffusionServiceClient(channel).GetModelInfoAsync(new(), Bearer, d).ResponseAsync);
        }
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        foreach (var process in new[] { GuardedGateway, Gateway, Diffusion, Vision, Clip })
            process?.Dispose();
        if (ImageHost is not null)
            await ImageHost.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class OpenAiFleetCollection : ICollectionFixture<OpenAiFleetFixture>
{
    public const string Name = "OpenAI REST fleet";
}
