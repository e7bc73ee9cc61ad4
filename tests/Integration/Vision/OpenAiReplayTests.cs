using System.Text.Json;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using MultiModal.Contracts.Common.V1;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Vision;

/// <summary>
/// The Vision service with Vision:Backend=openai, as a real process, pointed at <see cref="RecordedOpenAiServer"/>:
/// what our backend sends (model, a user message with the prompt and the image as a data URL, max tokens,
/// temperature, top_p, seed, stop, the key from OPENAI_API_KEY), how it reads OpenAI's answers (JSON and SSE), and how
/// upstream failures become gRPC statuses.
/// </summary>
public sealed class OpenAiReplayTests(OpenAiReplayTests.Fleet fleet) : IClassFixture<OpenAiReplayTests.Fleet>
{
    private const string ApiKey = "sk-test-from-environment";

    public sealed class Fleet : IAsyncLifetime
    {
        public RecordedOpenAiServer Upstream { get; private set; } = null!;
        public ServiceProcess Vision { get; private set; } = null!;
        public GrpcChannel Channel { get; private set; } = null!;
        public VisionService.VisionServiceClient Client { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Upstream = await RecordedOpenAiServer.StartAsync();
            Vision = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Vision", "Vision"),
                [
                    "--Vision:Backend=openai", $"--Vision:OpenAI:BaseUrl={Upstream.BaseUrl}", "--Vision:OpenAI:Model=gpt-4o-mini",
                    // The default upstream timeout (120 s): the client's DefaultTimeout guards hangs. A short one made the
                    // first call (JIT of the HTTP and OpenAI client stacks) time out under load; the timeout test runs
                    // its own service instead.
                    "--Vision:OpenAI:ApiKey=",
                ],
                environment: new Dictionary<string, string?> { ["OPENAI_API_KEY"] = ApiKey });
            Channel = GrpcChannel.ForAddress(Vision.Address);
            Client = new VisionService.VisionServiceClient(Channel);
        }

        public async Task DisposeAsync()
        {
            Channel?.Dispose();
            Vision?.Dispose();
            if (Upstream is not null)
                await Upstream.DisposeAsync();
        }
    }

    private static readonly Image Png = VisionFleetFixture.LoadImage("circle_64x48");

    [Fact]
    public async Task Describe_GreedyRequest_SendsChatCompletionWithImageDataUrlAndMapsTheAnswer()
    {
        var response = await fleet.Client.DescribeAsync(new DescribeRequest
        {
            Images = { Png }, Prompt = "What is in this picture?", MaxTokens = 64, Stop = { "\n\n" },
        }).ResponseAsync.DefaultTimeout();

        Assert.Equal("A red circle sits in the middle of a light grey background.", response.Text);
        Assert.Equal(FinishReason.Stop, response.FinishReason);
        Assert.Equal(new Usage { PromptTokens = 8514, CompletionTokens = 14, TotalTokens = 8528 }, response.Usage);

        var sent = fleet.Upstream.RequestWithPrompt("What is in this picture?");
        Assert.Equal("/v1/chat/completions", sent.Path);
        Assert.Equal($"Bearer {ApiKey}", sent.Authorization);
        Assert.Equal("gpt-4o-mini", sent.Body.GetProperty("model").GetString());
        var message = Assert.Single(sent.Body.GetProperty("messages").EnumerateArray());
        Assert.Equal("user", message.GetProperty("role").GetString());
        var image = Assert.Single(sent.Content.EnumerateArray(), p => p.GetProperty("type").GetString() == "image_url");
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(Png.Data.ToByteArray()),
            image.GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal(64, sent.Body.GetProperty("max_tokens").GetInt32());
        Assert.Equal(0.0, sent.Body.GetProperty("temperature").GetDouble());
        Assert.Equal(["\n\n"], sent.Body.GetProperty("stop").EnumerateArray().Select(s => s.GetString()!));
        Assert.False(sent.Body.TryGetProperty("top_p", out _));
        Assert.False(sent.Body.TryGetProperty("seed", out _));
        Assert.False(sent.Body.TryGetProperty("top_k", out _));
    }

    [Fact]
    public async Task Describe_SamplingRequestWithDefaults_SendsTemperatureTopPSeedAndDefaultMaxTokens()
    {
        await fleet.Client.DescribeAsync(new DescribeRequest
        {
            Images = { Png }, Prompt = "Sample it.", Temperature = 0.7f, TopP = 0.9f, TopK = 20, Seed = 42,
        }).ResponseAsync.DefaultTimeout();

        var sent = fleet.Upstream.RequestWithPrompt("Sample it.").Body;
        Assert.Equal(300, sent.GetProperty("max_tokens").GetInt32());
        Assert.Equal(0.7, sent.GetProperty("temperature").GetDouble(), 1e-6);
        Assert.Equal(0.9, sent.GetProperty("top_p").GetDouble(), 1e-6);
        Assert.Equal(42, sent.GetProperty("seed").GetInt64());
        Assert.Equal(20, sent.GetProperty("top_k").GetInt32());
        Assert.False(sent.TryGetProperty("max_completion_tokens", out _));
    }

    [Fact]
    public async Task DescribeStream_RecordedSse_DeltasInOrderThenFinishReasonAndUsage()
    {
        var request = new DescribeStreamRequest { Images = { Png }, Prompt = "Stream it.", MaxTokens = 13 };

        var messages = await VisionThroughGatewayTests.ReadAllAsync(fleet.Client.DescribeStream(request));

        Assert.Equal("A red circle on a pale background — café au lait 🙂.", string.Concat(messages.Select(m => m.Delta)));
        Assert.Equal(14, messages.Count);                   // 13 non-empty deltas (the empty role chunk sends none) + the final message
        Assert.All(messages[..^1], m => Assert.Null(m.Usage));
        Assert.Equal(FinishReason.Length, messages[^1].FinishReason);
        Assert.Equal(new Usage { PromptTokens = 8514, CompletionTokens = 13, TotalTokens = 8527 }, messages[^1].Usage);
        var sent = fleet.Upstream.RequestWithPrompt("Stream it.").Body;
        Assert.True(sent.GetProperty("stream").GetBoolean());
        Assert.True(sent.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal(13, sent.GetProperty("max_tokens").GetInt32());
    }

    [Theory]
    [InlineData("status 429", StatusCode.ResourceExhausted, "429")]
    [InlineData("status 500", StatusCode.Unavailable, "500")]
    [InlineData("status 401", StatusCode.Unavailable, "401")]
    [InlineData("status 400", StatusCode.InvalidArgument, "400")]
    public async Task Describe_UpstreamError_MappedToStatusWithUpstreamErrorReason(string prompt, StatusCode expected, string httpStatus)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            fleet.Client.DescribeAsync(new DescribeRequest { Images = { Png }, Prompt = prompt }).ResponseAsync.DefaultTimeout());

        Assert.Equal(expected, error.StatusCode);
        var status = error.GetRpcStatus()!;
        var info = status.GetDetail<ErrorInfo>();
        Assert.Equal("UPSTREAM_ERROR", info.Reason);
        Assert.Equal(httpStatus, info.Metadata["httpStatus"]);
        Assert.DoesNotContain(ApiKey, status.Message);
        if (httpStatus == "429")
        {
            Assert.Contains("Rate limit reached", status.Message);
            Assert.Equal(20, status.GetDetail<RetryInfo>().RetryDelay.Seconds);
        }
        if (httpStatus == "400")
            Assert.Contains("maximum context length", status.Message);
    }

    [Fact]
    public async Task DescribeStream_UpstreamRateLimited_StreamFailsWithResourceExhausted()
    {
        using var call = fleet.Client.DescribeStream(new DescribeStreamRequest { Images = { Png }, Prompt = "status 429" });

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal("UPSTREAM_ERROR", error.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
    }

    // Its own service with a 1 s upstream timeout: the "slow" upstream never answers, so any timeout ends in
    // DEADLINE_EXCEEDED however loaded the machine is, and the test costs that one second.
    [Fact]
    public async Task Describe_UpstreamSlowerThanTimeoutSeconds_DeadlineExceeded()
    {
        using var vision = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Vision", "Vision"),
        [
            "--Vision:Backend=openai", $"--Vision:OpenAI:BaseUrl={fleet.Upstream.BaseUrl}", "--Vision:OpenAI:ApiKey=k",
            "--Vision:OpenAI:TimeoutSeconds=1",
        ]);
        using var channel = GrpcChannel.ForAddress(vision.Address);

        var error = await Assert.ThrowsAsync<RpcException>(() => new VisionService.VisionServiceClient(channel)
            .DescribeAsync(new DescribeRequest { Images = { Png }, Prompt = "slow" }).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal("UPSTREAM_ERROR", error.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
    }

    [Fact]
    public async Task Describe_UpstreamUnreachable_Unavailable()
    {
        // A second service pointed at a loopback port nobody listens on.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var vision = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Vision", "Vision"),
            ["--Vision:Backend=openai", $"--Vision:OpenAI:BaseUrl=http://127.0.0.1:{closedPort}/v1", "--Vision:OpenAI:ApiKey=k"]);
        using var channel = GrpcChannel.ForAddress(vision.Address);

        var error = await Assert.ThrowsAsync<RpcException>(() => new VisionService.VisionServiceClient(channel)
            .DescribeAsync(new DescribeRequest { Images = { Png } }).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("UPSTREAM_ERROR", error.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
    }

    [Fact]
    public async Task GetModelInfo_OpenAiBackend_ReportsRemoteModelWithoutDevice()
    {
        var info = await fleet.Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout();

        Assert.Equal("openai", info.Backend);
        Assert.Equal("gpt-4o-mini", info.ModelName);
        Assert.Equal(0u, info.ContextLength);
        Assert.Equal("", info.Device);
    }

    [Fact]
    public async Task Describe_CorruptImage_RejectedBeforeAnythingIsSentUpstream()
    {
        var before = fleet.Upstream.Requests.Count;
        var error = await Assert.ThrowsAsync<RpcException>(() => fleet.Client.DescribeAsync(new DescribeRequest
        {
            Images = { new Image { Data = ByteString.CopyFromUtf8("not an image") } }, Prompt = "never sent",
        }).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.DoesNotContain(fleet.Upstream.Requests, r => r.UserText == "never sent");
    }
}
