using Grpc.Core;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Vision;

/// <summary>
/// Describe and DescribeStream through the gateway against transformers 4.37.2's greedy generations of tiny-llava-a
/// (golden.json "generation": the same prompts, images and 20 new tokens; ids must match exactly, README (c)).
/// </summary>
[Collection(VisionFleetCollection.Name)]
public sealed class VisionThroughGatewayTests(VisionFleetFixture fleet)
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Describe_GoldenImageAndPromptAtTemperatureZero_ReturnsTransformersGreedyText(int index)
    {
        var golden = fleet.Golden.GetProperty("generation")[index];

        var response = await fleet.Client.DescribeAsync(fleet.GoldenRequest(index)).ResponseAsync.DefaultTimeout();

        Assert.Equal(fleet.GoldenText(index), response.Text);
        if (index < 2) // no special token among these ids, so transformers' own new_text is the very same string
            Assert.Equal(golden.GetProperty("new_text").GetString(), response.Text);
        Assert.Equal(FinishReason.Length, response.FinishReason);
        Assert.Equal((uint)golden.GetProperty("merged_prompt_length").GetInt32(), response.Usage.PromptTokens);
        Assert.Equal(20u, response.Usage.CompletionTokens);
        Assert.Equal(response.Usage.PromptTokens + 20u, response.Usage.TotalTokens);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task DescribeStream_GoldenRequest_DeltasConcatenateToUnaryTextWithFinishAndUsageOnLastMessage(int index)
    {
        var unary = await fleet.Client.DescribeAsync(fleet.GoldenRequest(index)).ResponseAsync.DefaultTimeout();

        var messages = await ReadAllAsync(fleet.Client.DescribeStream(ToStream(fleet.GoldenRequest(index))));

        Assert.True(messages.Count >= 3, $"expected several deltas, got {messages.Count} messages");
        Assert.Equal(unary.Text, string.Concat(messages.Select(m => m.Delta)));
        Assert.Equal(fleet.GoldenText(index), unary.Text);
        Assert.All(messages[..^1], m =>
        {
            Assert.Equal(FinishReason.Unspecified, m.FinishReason);
            Assert.Null(m.Usage);
            Assert.NotEmpty(m.Delta);
        });
        var last = messages[^1];
        Assert.Equal(FinishReason.Length, last.FinishReason);
        Assert.Equal(unary.Usage, last.Usage);
    }

    [Fact]
    public async Task Describe_EmptyPrompt_AnswersDescribeThisImage()
    {
        var request = fleet.GoldenRequest(1);
        var asked = request.Clone();
        asked.Prompt = "Describe this image.";
        request.Prompt = "";

        var defaulted = await fleet.Client.DescribeAsync(request).ResponseAsync.DefaultTimeout();
        var explicitPrompt = await fleet.Client.DescribeAsync(asked).ResponseAsync.DefaultTimeout();

        Assert.Equal(explicitPrompt.Text, defaulted.Text);
        Assert.Equal(explicitPrompt.Usage, defaulted.Usage);
    }

    [Fact]
    public async Task Describe_StopStringInGreedyText_TextEndsBeforeItWithFinishStop()
    {
        // Greedy text of generation 0 is "7*ugeugeuge…": it must stop before the first "uge".
        var request = fleet.GoldenRequest(0);
        request.Stop.Add("uge");

        var response = await fleet.Client.DescribeAsync(request).ResponseAsync.DefaultTimeout();

        Assert.Equal(fleet.GoldenText(0)[..fleet.GoldenText(0).IndexOf("uge", StringComparison.Ordinal)], response.Text);
        Assert.Equal(FinishReason.Stop, response.FinishReason);
        Assert.True(response.Usage.CompletionTokens < 20);
    }

    [Fact]
    public async Task Describe_SamplingWithSeed_SameSeedSameTextAndStreamAgrees()
    {
        DescribeRequest Sampled(ulong seed)
        {
            var r = fleet.GoldenRequest(1);
            r.MaxTokens = 30;
            r.Temperature = 1.2f;
            r.TopP = 0.95f;
            r.TopK = 40;
            r.Seed = seed;
            return r;
        }

        var first = await fleet.Client.DescribeAsync(Sampled(7)).ResponseAsync.DefaultTimeout();
        var again = await fleet.Client.DescribeAsync(Sampled(7)).ResponseAsync.DefaultTimeout();
        var streamed = await ReadAllAsync(fleet.Client.DescribeStream(ToStream(Sampled(7))));
        var other = await fleet.Client.DescribeAsync(Sampled(8)).ResponseAsync.DefaultTimeout();

        Assert.Equal(first.Text, again.Text);
        Assert.Equal(first.Text, string.Concat(streamed.Select(m => m.Delta)));
        Assert.NotEqual(first.Text, other.Text);
    }

    [Fact]
    public async Task GetModelInfo_LocalBackend_ReportsModelLimitsAndDevice()
    {
        var info = await fleet.Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout();

        Assert.Equal("local", info.Backend);
        Assert.Equal("tiny-llava-a", info.ModelName);
        Assert.Equal(256u, info.ContextLength);
        Assert.Equal(1u, info.MaxImages);
        Assert.Equal(255u, info.MaxPromptTokens);
        Assert.Equal(1024u, info.MaxNewTokens);
        Assert.Equal("cpu", info.Device);
        Assert.Equal("float32", info.Dtype);
        Assert.NotNull(info.Stats);
    }

    internal static DescribeStreamRequest ToStream(DescribeRequest r)
    {
        var s = new DescribeStreamRequest { Images = { r.Images }, Prompt = r.Prompt, MaxTokens = r.MaxTokens, TopP = r.TopP, TopK = r.TopK, Stop = { r.Stop } };
        if (r.HasTemperature) s.Temperature = r.Temperature;
        if (r.HasSeed) s.Seed = r.Seed;
        return s;
    }

    internal static async Task<List<DescribeStreamResponse>> ReadAllAsync(AsyncServerStreamingCall<DescribeStreamResponse> call)
    {
        using (call)
        {
            var messages = new List<DescribeStreamResponse>();
            while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
                messages.Add(call.ResponseStream.Current);
            return messages;
        }
    }
}
