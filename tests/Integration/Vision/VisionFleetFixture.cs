using System.Text.Json;
using Google.Protobuf;
using Grpc.Net.Client;
using MultiModal.Contracts.Common.V1;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Models.Llava;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Vision;

/// <summary>
/// The Vision service (local backend on the golden tiny-llava-a folder) and the gateway as real processes on
/// 127.0.0.1, shared by every class of <see cref="VisionFleetCollection"/> so the one device queue serves one test at
/// a time. MaxBatchSize 3 and MaxQueueLength 2, so that QUEUE_FULL can be provoked with a handful of calls; prefills in
/// chunks of 8 positions, so every golden prompt (about 45 positions) is prefilled over several steps.
/// </summary>
public sealed class VisionFleetFixture : IAsyncLifetime
{
    public const int MaxBatchSize = 3, MaxQueueLength = 2, PrefillChunkTokens = 8;

    public static string ModelFolder => TestPaths.Fixture("llava", "tiny-llava-a");

    public ServiceProcess Vision { get; private set; } = null!;
    public ServiceProcess Gateway { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    public VisionService.VisionServiceClient Client { get; private set; } = null!;

    /// <summary>golden.json of tiny-llava-a-golden (transformers 4.37.2 greedy generations).</summary>
    public JsonElement Golden { get; } =
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("llava", "tiny-llava-a-golden", "golden.json"))).RootElement.Clone();

    public LlamaTokenizer Tokenizer { get; } = LlamaTokenizer.Load(ModelFolder);

    public async Task InitializeAsync()
    {
        Vision = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Vision", "Vision"),
            [
                $"--Vision:ModelPath={ModelFolder}", $"--Vision:MaxBatchSize={MaxBatchSize}", $"--Vision:MaxQueueLength={MaxQueueLength}",
                $"--Vision:PrefillChunkTokens={PrefillChunkTokens}",
                // The golden comparisons are float32's tokens; auto would pick bfloat16 on CPUs with avx512_bf16.
                "--Vision:DType=float32",
                // One Debug line per generation ("Generated N tokens ... (Cancelled)"), so tests can see how it ended.
                "--Logging:LogLevel:MultiModal.Vision.Local.LocalLlavaBackend=Debug",
            ]);
        Gateway = await GatewayFleet.StartGatewayAsync("vision", Vision.Address);
        Channel = GrpcChannel.ForAddress(Gateway.Address);
        Client = new VisionService.VisionServiceClient(Channel);
        await WaitUntilRoutedAsync(Client);
    }

    /// <summary>GetModelInfo through <paramref name="client"/> until the gateway routes to the service.</summary>
    public static Task WaitUntilRoutedAsync(VisionService.VisionServiceClient client) =>
        GatewayFleet.WaitUntilRoutedAsync(deadline => client.GetModelInfoAsync(new GetModelInfoRequest(), deadline: deadline).ResponseAsync);

    /// <summary>A golden image (PNG bytes) from tiny-llava-a-golden/images.</summary>
    public static Image LoadImage(string name) => new()
    {
        Data = ByteString.CopyFrom(File.ReadAllBytes(TestPaths.Fixture("llava", "tiny-llava-a-golden", "images", name + ".png"))),
        MimeType = "image/png",
    };

    /// <summary>
    /// Golden generation <paramref name="index"/> as a request: the question inside its LLaVA-1.5 prompt, its image
    /// and its 20 new tokens, greedy.
    /// </summary>
    public DescribeRequest GoldenRequest(int index)
    {
        var golden = Golden.GetProperty("generation")[index];
        var prompt = golden.GetProperty("prompt").GetString()!;
        const string prefix = "USER: <image>\n", suffix = " ASSISTANT:";
        Assert.StartsWith(prefix, prompt);
        Assert.EndsWith(suffix, prompt);
        return new DescribeRequest
        {
            Images = { LoadImage(golden.GetProperty("image").GetString()!) },
            Prompt = prompt[prefix.Length..^suffix.Length],
            MaxTokens = (uint)golden.GetProperty("num_new_tokens").GetInt32(),
            Temperature = 0,
        };
    }

    /// <summary>
    /// The golden generation's text as the service returns it: transformers' decode of the golden new ids with
    /// skip_special_tokens=True (golden new_text keeps special tokens such as &lt;unk&gt;).
    /// </summary>
    public string GoldenText(int index) => Tokenizer.Decode(
        Golden.GetProperty("generation")[index].GetProperty("new_token_ids").EnumerateArray().Select(x => x.GetInt32()), skipSpecialTokens: true);

    public Task DisposeAsync()
    {
        Channel?.Dispose();
        Gateway?.Dispose();
        Vision?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The Vision fleet is started once for every class in this collection; its tests run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class VisionFleetCollection : ICollectionFixture<VisionFleetFixture>
{
    public const string Name = "Vision fleet";
}
