using System.Net;
using System.Text;
using System.Text.Json;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.OpenAi;

/// <summary>REST refusals in OpenAI's shape and status, from the front door, the endpoints and the services.</summary>
[Collection(OpenAiFleetCollection.Name)]
public sealed class RestErrorTests(OpenAiFleetFixture fleet)
{
    private async Task<(HttpStatusCode Status, JsonElement Error, HttpResponseMessage Response)> PostAsync(string path, string json)
    {
        using var http = fleet.Http();
        var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json")).DefaultTimeout();
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync().DefaultTimeout()).RootElement;
        Assert.True(body.TryGetProperty("error", out var error), body.ToString());
        foreach (var field in new[] { "message", "type", "param", "code" })
            Assert.True(error.TryGetProperty(field, out _), $"no '{field}' in {error}");
        return (response.StatusCode, error.Clone(), response);
    }

    [Fact]
    public async Task Embeddings_BodyOverTheLimit_413()
    {
        var json = JsonSerializer.Serialize(new { model = "text-embedding-3-small", input = new string('a', OpenAiFleetFixture.MaxBodyBytes + 1) });

        var (status, error, _) = await PostAsync("/v1/embeddings", json);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("request_too_large", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task ChatStream_MaxTokensOverTheServiceLimit_Http400BeforeAnyEvent()
    {
        var json = """{"model":"gpt-4o","stream":true,"max_tokens":100000,"messages":[{"role":"user","content":"hi"}]}""";

        var (status, error, response) = await PostAsync("/v1/chat/completions", json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("max_tokens", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Embeddings_TokenIdInput_400NamingInput()
    {
        var (status, error, _) = await PostAsync("/v1/embeddings", """{"model":"text-embedding-3-small","input":[[1,2,3]]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("input", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Embeddings_OtherDimensions_400NamingDimensions()
    {
        var (status, error, _) = await PostAsync("/v1/embeddings", """{"model":"text-embedding-3-small","input":"a cat","dimensions":3}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("dimensions", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task ImageGeneration_ResponseFormatUrl_400()
    {
        var (status, error, _) = await PostAsync("/v1/images/generations", """{"model":"dall-e-3","prompt":"a cube","response_format":"url"}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("response_format", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task UnknownEndpoint_404()
    {
        var (status, error, _) = await PostAsync("/v1/completions", """{"model":"gpt-4o","prompt":"hi"}""");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("unknown_url", error.GetProperty("code").GetString());
    }
}
