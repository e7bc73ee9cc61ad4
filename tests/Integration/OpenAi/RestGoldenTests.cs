using System.Text;
using System.Text.Json;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Tests.Integration.Vision;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.OpenAi;

/// <summary>Greedy chat through REST is the gRPC Describe, token for token, on the golden tiny LLaVA.</summary>
[Collection(OpenAiFleetCollection.Name)]
public sealed class RestGoldenTests(OpenAiFleetFixture fleet)
{
    [Fact]
    public async Task GreedyChat_GoldenPrompt_SameTextAsGrpcDescribeAndTransformers()
    {
        var golden = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("llava", "tiny-llava-a-golden", "golden.json"))).RootElement.GetProperty("generation")[0];
        var prompt = golden.GetProperty("prompt").GetString()!["USER: <image>\n".Length..^" ASSISTANT:".Length];
        var image = VisionFleetFixture.LoadImage(golden.GetProperty("image").GetString()!);
        var tokens = golden.GetProperty("num_new_tokens").GetInt32();
        var grpc = await new VisionService.VisionServiceClient(fleet.Channel).DescribeAsync(
            new DescribeRequest { Images = { image }, Prompt = prompt, MaxTokens = (uint)tokens, Temperature = 0 }, fleet.Bearer).ResponseAsync.DefaultTimeout();

        var json = JsonSerializer.Serialize(new
        {
            model = "tiny-llava-a",
            temperature = 0,
            max_completion_tokens = tokens,
            messages = new[]
            {
                new
                {
                    role = "user",
                    content = new object[]
                    {
                        new { type = "text", text = prompt },
                        new { type = "image_url", image_url = new { url = "data:image/png;base64," + image.Data.ToBase64(), detail = "auto" } },
                    },
                },
            },
        });
        using var http = fleet.Http();
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json")).DefaultTimeout();
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync().DefaultTimeout()).RootElement;

        Assert.True(response.IsSuccessStatusCode, body.ToString());
        var text = body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
        Assert.Equal(grpc.Text, text);
        Assert.Equal(golden.GetProperty("new_text").GetString(), text);
        Assert.Equal((int)grpc.Usage.PromptTokens, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(golden.GetProperty("merged_prompt_length").GetInt32(), body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task GreedyChat_SystemAndEarlierTurns_SameTextAsGrpcDescribeWithHistory()
    {
        var image = VisionFleetFixture.LoadImage("circle_64x48");
        var grpc = await new VisionService.VisionServiceClient(fleet.Channel).DescribeAsync(new DescribeRequest
        {
            Images = { image }, Prompt = "And its colour?", MaxTokens = 10, Temperature = 0, System = "You are terse.",
            History = { new ConversationTurn { User = "What is in this picture?", Assistant = "A circle." } },
        }, fleet.Bearer).ResponseAsync.DefaultTimeout();
        var single = await new VisionService.VisionServiceClient(fleet.Channel).DescribeAsync(new DescribeRequest
        {
            Images = { image }, Prompt = "And its colour?", MaxTokens = 10, Temperature = 0,
        }, fleet.Bearer).ResponseAsync.DefaultTimeout();

        var json = JsonSerializer.Serialize(new
        {
            model = "gpt-4o",
            temperature = 0,
            max_tokens = 10,
            messages = new object[]
            {
                new { role = "system", content = "You are terse." },
                new
                {
                    role = "user",
                    content = new object[]
                    {
                        new { type = "text", text = "What is in this picture?" },
                        new { type = "image_url", image_url = "data:image/png;base64," + image.Data.ToBase64() },
                    },
                },
                new { role = "assistant", content = "A circle." },
                new { role = "user", content = "And its colour?" },
            },
        });
        using var http = fleet.Http();
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json")).DefaultTimeout();
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync().DefaultTimeout()).RootElement;

        Assert.True(response.IsSuccessStatusCode, body.ToString());
        Assert.Equal(grpc.Text, body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal((int)grpc.Usage.PromptTokens, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.True(grpc.Usage.PromptTokens > single.Usage.PromptTokens, "the system text and the earlier turn are in the prompt");
    }
}
