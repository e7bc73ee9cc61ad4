using System.Net;
using System.Text;
using System.Text.Json;
using MultiModal.Tests.Integration.OpenAi;
using MultiModal.Tests.Testing;
using Xunit;
using ClipV1 = MultiModal.Contracts.Clip.V1;

namespace MultiModal.Tests.Integration.Playground;

/// <summary>
/// What the playground needs from the gateway, over plain HTTP on the keyed REST fleet: the page served without a key
/// (while the API still wants one), <c>POST /v1/x/classify</c> (our extension) equal to gRPC Classify with OpenAI-shaped
/// errors, and the image stream's <c>progress</c> extension events (absent unless asked for, so OpenAI clients see
/// OpenAI's events only).
/// </summary>
[Collection(OpenAiFleetCollection.Name)]
public sealed class PlaygroundRestTests(OpenAiFleetFixture fleet)
{
    private static readonly string[] Labels = ["a red circle", "a blue square", "a dog"];

    [Theory]
    [InlineData("/", "text/html")]
    [InlineData("/index.html", "text/html")]
    [InlineData("/js/app.js", "text/javascript")]
    [InlineData("/playground.css", "text/css")]
    public async Task Page_WithoutKey_ServedWithContentSecurityPolicy(string path, string mediaType)
    {
        using var http = new HttpClient { BaseAddress = fleet.Gateway.Address };
        using var response = await http.GetAsync(path).DefaultTimeout();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'none'", string.Join(";", response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Api_BesideThePageWithoutKey_StillReturns401()
    {
        using var http = new HttpClient { BaseAddress = fleet.Gateway.Address };
        using var models = await http.GetAsync("/v1/models").DefaultTimeout();
        using var missing = await http.GetAsync("/no-such-file.js").DefaultTimeout();

        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);   // not a file: the front door's, as before
    }

    [Fact]
    public async Task Classify_DataUrlAndLabels_SameScoresAsGrpcClassify()
    {
        var grpc = await new ClipV1.ClipService.ClipServiceClient(fleet.Channel).ClassifyAsync(new ClipV1.ClassifyRequest
        {
            Image = new() { Data = Google.Protobuf.ByteString.CopyFrom(fleet.ImageHost.Png) }, Labels = { Labels }, Template = "a photo of {}",
        }, fleet.Bearer).ResponseAsync.DefaultTimeout();

        var (status, body) = await PostAsync("/v1/x/classify", new { image = DataUrl(), labels = Labels, template = "a photo of {}" });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("classification", body.GetProperty("object").GetString());
        var data = body.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(Labels, data.Select(d => d.GetProperty("label").GetString()));
        for (var i = 0; i < Labels.Length; i++)
        {
            Assert.Equal(grpc.Scores[i].Probability, data[i].GetProperty("probability").GetSingle());
            Assert.Equal(grpc.Scores[i].Logit, data[i].GetProperty("logit").GetSingle());
        }
    }

    [Theory]
    [InlineData("""{"labels": ["a"]}""", "image", "missing_required_parameter")]
    [InlineData("""{"image": "IMG", "labels": []}""", "labels", null)]
    [InlineData("""{"image": "IMG", "labels": ["a", 3]}""", "labels[1]", "invalid_type")]
    [InlineData("""{"image": "data:image/png;base64,AAAA", "labels": ["a"]}""", "image", null)]
    [InlineData("""{"image": "IMG", "labels": ["a"], "model": "dall-e-3"}""", "model", "model_not_found")]
    public async Task Classify_BadRequest_OpenAiErrorNamesTheParam(string json, string param, string? code)
    {
        var (status, body) = await PostRawAsync("/v1/x/classify", json.Replace("IMG", DataUrl(), StringComparison.Ordinal));

        var error = body.GetProperty("error");
        Assert.True(status is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, body.ToString());
        if (code != "model_not_found")
            Assert.Equal(param, error.GetProperty("param").GetString());
        if (code is not null)
            Assert.Equal(code, error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task GenerationsStream_Progress_QueuedThenEveryStepThenCompletedWithSeed()
    {
        var events = await StreamAsync(new { prompt = "a red cube", size = "64x64", steps = 6, seed = 11, stream = true, partial_images = 2, progress = true });

        var types = events.Select(e => e.GetProperty("type").GetString()).ToArray();
        Assert.Equal("x.image_generation.queued", types[0]);
        var steps = events.Where(e => e.GetProperty("type").GetString() == "x.image_generation.progress")
            .Select(e => (e.GetProperty("step").GetInt32(), e.GetProperty("total_steps").GetInt32())).ToArray();
        Assert.Equal(Enumerable.Range(1, 6).Select(s => (s, 6)), steps);
        Assert.Equal(2, types.Count(t => t == "image_generation.partial_image"));
        Assert.Equal("image_generation.completed", types[^1]);
        Assert.Equal(11UL, events[^1].GetProperty("seed").GetUInt64());
    }

    [Fact]
    public async Task GenerationsStream_WithoutProgress_OnlyOpenAiEvents()
    {
        var events = await StreamAsync(new { prompt = "a red cube", size = "64x64", steps = 4, stream = true, partial_images = 1 });

        Assert.Equal(["image_generation.partial_image", "image_generation.completed"], events.Select(e => e.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task Generations_ProgressWithoutStream_Returns400()
    {
        var (status, body) = await PostAsync("/v1/images/generations", new { prompt = "a red cube", size = "64x64", steps = 2, progress = true });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("progress", body.GetProperty("error").GetProperty("param").GetString());
    }

    private string DataUrl() => "data:image/png;base64," + Convert.ToBase64String(fleet.ImageHost.Png);

    private Task<(HttpStatusCode, JsonElement)> PostAsync(string path, object body) => PostRawAsync(path, JsonSerializer.Serialize(body));

    private async Task<(HttpStatusCode, JsonElement)> PostRawAsync(string path, string json)
    {
        using var http = fleet.Http();
        using var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json")).DefaultTimeout();
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync().DefaultTimeout()).RootElement.Clone());
    }

    // The SSE body's data payloads, in order (the stream ends when the gateway closes it after the last image).
    private async Task<JsonElement[]> StreamAsync(object body)
    {
        using var http = fleet.Http();
        using var response = await http.PostAsync("/v1/images/generations",
            new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json")).DefaultTimeout();
        var text = await response.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.True(response.IsSuccessStatusCode, text);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return [.. text.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l["data: ".Length..]).RootElement.Clone())];
    }
}
