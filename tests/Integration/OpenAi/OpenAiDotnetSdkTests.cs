using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using MultiModal.Tests.Integration.Vision;
using MultiModal.Tests.Testing;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Images;
using Xunit;

namespace MultiModal.Tests.Integration.OpenAi;

/// <summary>
/// The official <c>OpenAI</c> NuGet package, unmodified apart from base URL and key, against the fleet: embeddings in
/// both encodings, chat with an image, streaming with usage, image generation and edit as b64_json, models, errors.
/// (The .NET package has no image streaming; the npm test covers partial images.)
/// </summary>
[Collection(OpenAiFleetCollection.Name)]
public sealed class OpenAiDotnetSdkTests(OpenAiFleetFixture fleet)
{
    private static readonly BinaryData Png = VisionFleetFixture.LoadImage("circle_64x48").Data.ToByteArray() is var b ? BinaryData.FromBytes(b) : null!;

    [Fact]
    public async Task Embeddings_Base64DefaultAndFloat_SameUnitVectorsAndTokenUsage()
    {
        var client = fleet.Sdk().GetEmbeddingClient("text-embedding-3-small");

        var base64 = (await client.GenerateEmbeddingsAsync(["a cat", "a dog on a red sofa"]).DefaultTimeout()).Value;   // the SDK asks for base64
        var floatJson = await client.GenerateEmbeddingsAsync(BinaryContent.Create(BinaryData.FromObjectAsJson(
            new { model = "text-embedding-3-small", input = new[] { "a cat", "a dog on a red sofa" }, encoding_format = "float" }))).DefaultTimeout();
        using var floats = JsonDocument.Parse(floatJson.GetRawResponse().Content);

        Assert.Equal(2, base64.Count);
        for (var i = 0; i < 2; i++)
        {
            var fromBase64 = base64[i].ToFloats().ToArray();
            var fromFloat = floats.RootElement.GetProperty("data")[i].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Assert.Equal(fromFloat, fromBase64);
            Assert.InRange(Math.Sqrt(fromBase64.Sum(x => (double)x * x)), 0.999, 1.001);
        }
        Assert.NotEqual(base64[0].ToFloats().ToArray(), base64[1].ToFloats().ToArray());
        Assert.True(base64.Usage.InputTokenCount > 2 * 2, $"prompt tokens {base64.Usage.InputTokenCount}: start and end tokens plus words");
    }

    [Fact]
    public async Task Chat_ImagePartObjectForm_AnswersWithUsage()
    {
        var client = fleet.Sdk().GetChatClient("gpt-4o");

        var completion = (await client.CompleteChatAsync(
            [new UserChatMessage(ChatMessageContentPart.CreateTextPart("What is in this picture?"), ChatMessageContentPart.CreateImagePart(Png, "image/png"))],
            new ChatCompletionOptions { MaxOutputTokenCount = 6, Temperature = 0 }).DefaultTimeout()).Value;

        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(6, completion.Usage.OutputTokenCount);
        Assert.True(completion.Usage.InputTokenCount > 6, "the prompt's tokens include the image rows");
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task ChatStream_IncludeUsage_DeltasConcatenateToUnaryTextAndUsageArrivesLast()
    {
        var client = fleet.Sdk().GetChatClient("gpt-4o-mini");
        ChatMessage[] messages = [new UserChatMessage(ChatMessageContentPart.CreateTextPart("Describe it."), ChatMessageContentPart.CreateImagePart(Png, "image/png"))];
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0 };
        var unary = (await client.CompleteChatAsync(messages, options).DefaultTimeout()).Value;

        var text = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync(messages, options).WithCancellation(new CancellationTokenSource(Testing.TaskExtensions.DefaultTimeoutSpan).Token))
        {
            foreach (var part in update.ContentUpdate)
                text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal(unary.Content[0].Text, text.ToString());
        Assert.Equal(ChatFinishReason.Length, finish);
        Assert.NotNull(usage);
        Assert.Equal(8, usage.OutputTokenCount);
        Assert.Equal(unary.Usage.InputTokenCount, usage.InputTokenCount);
    }

    [Fact]
    public async Task ImageGeneration_B64Json_ReturnsPngOfTheAskedSize()
    {
        var client = fleet.Sdk().GetImageClient("dall-e-2");
        var options = new ImageGenerationOptions { Size = new GeneratedImageSize(64, 48), ResponseFormat = GeneratedImageFormat.Bytes };

        var image = (await client.GenerateImageAsync("a red cube", options).DefaultTimeout()).Value;

        var png = image.ImageBytes.ToArray();
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.Equal((64, 48), PngSize(png));
    }

    [Fact]
    public async Task ImageEdit_Multipart_ReturnsPngOfTheInitImageSize()
    {
        var client = fleet.Sdk().GetImageClient("gpt-image-1");
        var init = File.ReadAllBytes(TestPaths.Fixture("tiny-sd", "img2img_init_64x64.png"));
        var options = new ImageEditOptions { ResponseFormat = GeneratedImageFormat.Bytes };

        var image = (await client.GenerateImageEditAsync(new MemoryStream(init), "init.png", "a blue cube", options).DefaultTimeout()).Value;

        Assert.Equal((64, 64), PngSize(image.ImageBytes.ToArray()));
    }

    [Fact]
    public async Task Models_ListAndGet_ServedModelsAndAliases()
    {
        var client = fleet.Sdk().GetOpenAIModelClient();

        var models = (await client.GetModelsAsync().DefaultTimeout()).Value.Select(m => m.Id).ToArray();
        var alias = (await client.GetModelAsync("gpt-4o").DefaultTimeout()).Value;
        var unknown = await Assert.ThrowsAsync<ClientResultException>(() => client.GetModelAsync("no-such-model")).DefaultTimeout();

        Assert.Contains("tiny-llava-a", models);
        Assert.Contains("gpt-4o", models);
        Assert.Contains("text-embedding-3-small", models);
        Assert.Contains("dall-e-3", models);
        Assert.Equal("gpt-4o", alias.Id);
        Assert.Equal(404, unknown.Status);
    }

    [Fact]
    public async Task Chat_BadKey_401()
    {
        var client = fleet.Sdk(key: "not-the-key").GetChatClient("gpt-4o");

        var e = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("hi")])).DefaultTimeout();

        Assert.Equal(401, e.Status);
    }

    [Fact]
    public async Task ImageGeneration_SizeNotMultipleOf8_400WithParamSize()
    {
        var client = fleet.Sdk().GetImageClient("dall-e-2");

        var e = await Assert.ThrowsAsync<ClientResultException>(() => client.GenerateImageAsync("a red cube",
            new ImageGenerationOptions { Size = new GeneratedImageSize(63, 64), ResponseFormat = GeneratedImageFormat.Bytes })).DefaultTimeout();

        Assert.Equal(400, e.Status);
        using var body = JsonDocument.Parse(e.GetRawResponse()!.Content);
        Assert.Equal("size", body.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task Embeddings_WrongModel_404ModelNotFound()
    {
        var client = fleet.Sdk().GetEmbeddingClient("gpt-4o");

        var e = await Assert.ThrowsAsync<ClientResultException>(() => client.GenerateEmbeddingAsync("a cat")).DefaultTimeout();

        Assert.Equal(404, e.Status);
        using var body = JsonDocument.Parse(e.GetRawResponse()!.Content);
        Assert.Equal("model_not_found", body.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    private static (int Width, int Height) PngSize(byte[] png) =>
        (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
}
