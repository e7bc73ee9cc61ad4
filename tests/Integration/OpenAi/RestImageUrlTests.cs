using System.Net;
using System.Text;
using System.Text.Json;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.OpenAi;

/// <summary>
/// The request of the GPT-4V example this project started from, as raw JSON (what curl sends): the text
/// "这张图片里有什么？" and a plain-string <c>image_url</c>, <c>max_tokens: 300</c>. Answered when the image host is allowed;
/// a 400 naming the image_url when it is not, with no request reaching the loopback image host, whichever way the
/// URL names it (127.0.0.1, localhost, or a name pinned to 127.0.0.1).
/// </summary>
[Collection(OpenAiFleetCollection.Name)]
public sealed class RestImageUrlTests(OpenAiFleetFixture fleet)
{
    private const string Param = "messages[0].content[1].image_url";

    private static string Gpt4VExample(string imageUrl) => JsonSerializer.Serialize(new
    {
        model = "gpt-4-vision-preview",
        messages = new[]
        {
            new
            {
                role = "user",
                content = new object[] { new { type = "text", text = "这张图片里有什么？" }, new { type = "image_url", image_url = imageUrl } },
            },
        },
        max_tokens = 300,
    });

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string json, ServiceProcess? gateway = null)
    {
        using var http = fleet.Http(gateway);
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json")).DefaultTimeout();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync().DefaultTimeout());
        Assert.Equal(new Version(1, 1), response.Version);   // plain HTTP/1.1 on the port that also serves h2c gRPC
        return (response.StatusCode, body.RootElement.Clone());
    }

    [Fact]
    public async Task Gpt4VExample_AllowListedLoopbackHost_AnsweredFromTheFetchedImage()
    {
        var before = fleet.ImageHost.Requests.Count;

        var (status, body) = await PostAsync(Gpt4VExample($"http://img.localtest:{fleet.ImageHost.Port}/image.png"));

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()));
        Assert.Equal($"img.localtest:{fleet.ImageHost.Port}/image.png", fleet.ImageHost.Requests.Skip(before).Single());
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    [InlineData("img.localtest")]
    public async Task Gpt4VExample_HostAllowedButAddressLoopback_400NamingImageUrlAndNoRequest(string host)
    {
        var before = fleet.ImageHost.Requests.Count;

        var (status, body) = await PostAsync(Gpt4VExample($"http://{host}:{fleet.ImageHost.Port}/image.png"), fleet.GuardedGateway);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(Param, body.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal("image_url_not_allowed", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(before, fleet.ImageHost.Requests.Count);
    }

    [Fact]
    public async Task Gpt4VExample_HostNotOnAllowList_400NamingImageUrlAndNoRequest()
    {
        var before = fleet.ImageHost.Requests.Count;

        var (status, body) = await PostAsync(Gpt4VExample($"http://img-other.localtest:{fleet.ImageHost.Port}/image.png"));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(Param, body.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal("image_host_not_allowed", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(before, fleet.ImageHost.Requests.Count);
    }

    [Fact]
    public async Task ImageUrl_RedirectToAnotherHost_400AndTheOtherHostNotAsked()
    {
        var before = fleet.ImageHost.Requests.Count;

        var (status, body) = await PostAsync(Gpt4VExample($"http://img.localtest:{fleet.ImageHost.Port}/elsewhere"));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("another host", body.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal($"img.localtest:{fleet.ImageHost.Port}/elsewhere", fleet.ImageHost.Requests.Skip(before).Single());
    }

    [Fact]
    public async Task ImageUrl_PlainStringDataUrl_Answered()
    {
        var dataUrl = "data:image/png;base64," + Convert.ToBase64String(fleet.ImageHost.Png);

        var (status, body) = await PostAsync(Gpt4VExample(dataUrl));

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.True(body.GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0);
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"n":2}""", "n")]
    [InlineData("""{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:text/plain;base64,aGk="}}]}]}""", "messages[0].content[0].image_url")]
    [InlineData("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"temperature":3}""", "temperature")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}]}""", "model")]
    public async Task Chat_BadField_400WithParam(string json, string param)
    {
        var (status, body) = await PostAsync(json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(param, body.GetProperty("error").GetProperty("param").GetString());
    }
}
