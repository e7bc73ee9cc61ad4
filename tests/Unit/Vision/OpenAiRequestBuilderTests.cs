using System.ClientModel.Primitives;
using System.Text.Json;
using MultiModal.Models.Imaging;
using MultiModal.Vision;
using MultiModal.Vision.Backends;
using MultiModal.Vision.OpenAi;
using OpenAI.Chat;
using Xunit;

namespace MultiModal.Tests.Unit.Vision;

/// <summary>The chat/completions JSON the openai backend sends, as the OpenAI library serialises it.</summary>
public sealed class OpenAiRequestBuilderTests
{
    private static readonly VisionSampling Greedy = new(MaxTokens: 50, Temperature: null, TopP: 1, TopK: 0, Seed: null, Stop: []);

    private static JsonElement Json(ChatCompletionOptions options) =>
        JsonDocument.Parse(ModelReaderWriter.Write(options).ToString()).RootElement;

    [Fact]
    public void Options_MaxCompletionTokensField_SendsOnlyMaxCompletionTokens()
    {
        var json = Json(OpenAiRequestBuilder.Options(Greedy, VisionOpenAiOptions.MaxCompletionTokens));

        Assert.Equal(50, json.GetProperty("max_completion_tokens").GetInt32());
        Assert.False(json.TryGetProperty("max_tokens", out _));
        Assert.Equal(0.0, json.GetProperty("temperature").GetDouble());
    }

    [Fact]
    public void Options_GreedyWithTopK_TopKNotSent()
    {
        var json = Json(OpenAiRequestBuilder.Options(Greedy with { TopK = 5 }, VisionOpenAiOptions.MaxTokens));

        Assert.Equal(50, json.GetProperty("max_tokens").GetInt32());
        Assert.False(json.TryGetProperty("top_k", out _));
    }

    [Fact]
    public void Messages_BmpImage_ReencodedAsPngDataUrl()
    {
        var decoded = new DecodedImage(2, 1, [255, 0, 0, 0, 0, 255]);
        var bmp = new byte[] { (byte)'B', (byte)'M', 0, 0 };           // only the sniffed type matters here
        var request = new VisionRequest([new VisionImage(bmp, "image/bmp", decoded)], "What?", Greedy);

        var message = Assert.Single(OpenAiRequestBuilder.Messages(request));

        var image = Assert.Single(message.Content, p => p.Kind == ChatMessageContentPartKind.Image);
        Assert.Equal("image/png", image.ImageBytesMediaType);
        var roundTrip = ImageDecoder.Decode(image.ImageBytes.ToArray(), ImageLimits.Default);
        Assert.Equal(decoded.Rgb, roundTrip.Rgb);
        Assert.Equal("What?", Assert.Single(message.Content, p => p.Kind == ChatMessageContentPartKind.Text).Text);
    }

    [Fact]
    public void Messages_SystemAndHistory_SystemThenTurnsWithImagesInTheFirstUserMessage()
    {
        var decoded = new DecodedImage(1, 1, [255, 0, 0]);
        var request = new VisionRequest([new VisionImage(new byte[] { 0x89, (byte)'P' }, "image/png", decoded)], "And now?", Greedy)
        {
            History = [new VisionTurn("What is it?", "A red dot.")],
            System = "Be brief.",
        };

        var messages = OpenAiRequestBuilder.Messages(request);

        Assert.Collection(messages,
            m => Assert.Equal("Be brief.", Assert.IsType<SystemChatMessage>(m).Content[0].Text),
            m => Assert.Equal([ChatMessageContentPartKind.Text, ChatMessageContentPartKind.Image], Assert.IsType<UserChatMessage>(m).Content.Select(p => p.Kind)),
            m => Assert.Equal("A red dot.", Assert.IsType<AssistantChatMessage>(m).Content[0].Text),
            m => Assert.Equal([ChatMessageContentPartKind.Text], Assert.IsType<UserChatMessage>(m).Content.Select(p => p.Kind)));
    }
}
