using MultiModal.Contracts.Vision.V1;
using MultiModal.Tests.Integration.Vision;
using MultiModal.Tests.Testing;
using Grpc.Net.Client;
using Xunit;

namespace MultiModal.Tests.Integration.OpenAi;

/// <summary>
/// The remote vision backend, closed loop: a second Vision service with <c>Vision:Backend=openai</c> pointed at this
/// gateway's <c>/v1/chat/completions</c> (served by the local-backend Vision behind it) answers a greedy Describe with
/// the same text as the local one.
/// </summary>
[Collection(OpenAiFleetCollection.Name)]
public sealed class ClosedLoopTests(OpenAiFleetFixture fleet)
{
    [Theory]
    [InlineData("max_tokens")]
    [InlineData("max_completion_tokens")]
    public async Task Describe_OpenAiBackendThroughGatewayRest_SameTextAsLocal(string maxTokensField)
    {
        using var remote = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Vision", "Vision"),
        [
            "--Vision:Backend=openai", $"--Vision:OpenAI:BaseUrl={new Uri(fleet.Gateway.Address, "/v1")}", "--Vision:OpenAI:Model=gpt-4o",
            $"--Vision:OpenAI:ApiKey={OpenAiFleetFixture.Key}", $"--Vision:OpenAI:MaxTokensField={maxTokensField}",
        ]);
        using var remoteChannel = GrpcChannel.ForAddress(remote.Address);
        var request = new DescribeRequest
        {
            Images = { VisionFleetFixture.LoadImage("circle_64x48") }, Prompt = "What is in this picture?", MaxTokens = 12, Temperature = 0,
        };

        var local = await new VisionService.VisionServiceClient(fleet.Channel).DescribeAsync(request, fleet.Bearer).ResponseAsync.DefaultTimeout();
        var looped = await new VisionService.VisionServiceClient(remoteChannel).DescribeAsync(request).ResponseAsync.DefaultTimeout();

        Assert.False(string.IsNullOrEmpty(local.Text));
        Assert.Equal(local.Text, looped.Text);
        Assert.Equal(local.FinishReason, looped.FinishReason);
        Assert.Equal(local.Usage, looped.Usage);
    }

    [Fact]
    public async Task Describe_ConversationThroughOpenAiBackendAndGatewayRest_SameTextAsLocal()
    {
        using var remote = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Vision", "Vision"),
        [
            "--Vision:Backend=openai", $"--Vision:OpenAI:BaseUrl={new Uri(fleet.Gateway.Address, "/v1")}", "--Vision:OpenAI:Model=gpt-4o",
            $"--Vision:OpenAI:ApiKey={OpenAiFleetFixture.Key}",
        ]);
        using var remoteChannel = GrpcChannel.ForAddress(remote.Address);
        var request = new DescribeRequest
        {
            Images = { VisionFleetFixture.LoadImage("circle_64x48") }, Prompt = "And its colour?", MaxTokens = 10, Temperature = 0,
            System = "You are terse.", History = { new ConversationTurn { User = "What is in this picture?", Assistant = "A circle." } },
        };

        var local = await new VisionService.VisionServiceClient(fleet.Channel).DescribeAsync(request, fleet.Bearer).ResponseAsync.DefaultTimeout();
        var looped = await new VisionService.VisionServiceClient(remoteChannel).DescribeAsync(request).ResponseAsync.DefaultTimeout();

        Assert.Equal(local.Text, looped.Text);
        Assert.Equal(local.Usage, looped.Usage);
    }

    [Fact]
    public async Task DescribeStream_OpenAiBackendThroughGatewayRest_SameDeltasJoinedAsLocal()
    {
        using var remote = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Vision", "Vision"),
        [
            "--Vision:Backend=openai", $"--Vision:OpenAI:BaseUrl={new Uri(fleet.Gateway.Address, "/v1")}", "--Vision:OpenAI:Model=gpt-4o",
            $"--Vision:OpenAI:ApiKey={OpenAiFleetFixture.Key}",
        ]);
        using var remoteChannel = GrpcChannel.ForAddress(remote.Address);
        var request = new DescribeStreamRequest
        {
            Images = { VisionFleetFixture.LoadImage("circle_64x48") }, Prompt = "Describe it.", MaxTokens = 10, Temperature = 0,
        };

        var local = await Collect(new VisionService.VisionServiceClient(fleet.Channel).DescribeStream(request, fleet.Bearer)).DefaultTimeout();
        var looped = await Collect(new VisionService.VisionServiceClient(remoteChannel).DescribeStream(request)).DefaultTimeout();

        Assert.Equal(local.Text, looped.Text);
        Assert.Equal(local.Last.FinishReason, looped.Last.FinishReason);
        Assert.Equal(local.Last.Usage, looped.Last.Usage);
    }

    private static async Task<(string Text, DescribeStreamResponse Last)> Collect(Grpc.Core.AsyncServerStreamingCall<DescribeStreamResponse> call)
    {
        using (call)
        {
            var text = new System.Text.StringBuilder();
            DescribeStreamResponse last = null!;
            while (await call.ResponseStream.MoveNext(default))
            {
                last = call.ResponseStream.Current;
                text.Append(last.Delta);
            }
            return (text.ToString(), last);
        }
    }
}
