using System.Net;
using System.Net.Http.Headers;
using Google.Rpc;
using Grpc.Core;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Tests.Testing;
using Xunit;
using DiffusionV1 = MultiModal.Contracts.Diffusion.V1;

namespace MultiModal.Tests.Integration.Gateway.FrontDoor;

/// <summary>API keys at the gateway: missing or wrong keys get UNAUTHENTICATED as a gRPC status (not HTTP 401).</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class ApiKeyTests(FrontDoorFixture fixture)
{
    private readonly ClipService.ClipServiceClient _clip = new(fixture.Channel);
    private readonly DiffusionService.DiffusionServiceClient _diffusion = new(fixture.Channel);

    [Fact]
    public async Task UnaryCall_NoKey_UnauthenticatedApiKeyMissing()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _clip.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "a" } }).ResponseAsync.DefaultTimeout());

        AssertUnauthenticated(error, "API_KEY_MISSING");
    }

    [Fact]
    public async Task ServerStreamingCall_NoKey_UnauthenticatedApiKeyMissing()
    {
        using var call = _diffusion.GenerateImage(new GenerateImageRequest { Prompt = "no key", Steps = 2 });

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());

        AssertUnauthenticated(error, "API_KEY_MISSING");
    }

    [Fact]
    public async Task UnaryCall_WrongKey_UnauthenticatedApiKeyInvalid()
    {
        var wrong = FrontDoorFixture.Alice with { Key = "not-alice" };

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _clip.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "a" } }, wrong.Bearer).ResponseAsync.DefaultTimeout());

        AssertUnauthenticated(error, "API_KEY_INVALID");
    }

    [Fact]
    public async Task ServerStreamingCall_WrongKey_UnauthenticatedApiKeyInvalid()
    {
        var wrong = FrontDoorFixture.Alice with { Key = "not-alice" };
        using var call = _diffusion.GenerateImage(new GenerateImageRequest { Prompt = "wrong key", Steps = 2 }, wrong.XApiKey);

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());

        AssertUnauthenticated(error, "API_KEY_INVALID");
    }

    [Fact]
    public async Task UnaryCall_ValidKeyAsBearerOrXApiKey_Ok()
    {
        var viaBearer = await _clip.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "abc" } }, FrontDoorFixture.Alice.Bearer).ResponseAsync.DefaultTimeout();
        var viaHeader = await _clip.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "ab" } }, FrontDoorFixture.Alice.XApiKey).ResponseAsync.DefaultTimeout();

        Assert.Equal([3f], viaBearer.Embeddings.Single().Values);
        Assert.Equal([2f], viaHeader.Embeddings.Single().Values);
    }

    [Fact]
    public async Task ServerStreamingCall_ValidKey_StreamsToTheEnd()
    {
        using var call = _diffusion.GenerateImage(
            new GenerateImageRequest { Prompt = $"keyed {Guid.NewGuid():N}", Steps = 3, Seed = 5 }, FrontDoorFixture.Alice.Bearer);

        var events = await call.ResponseStream.ReadAllAsync().ToListAsync().AsTask().DefaultTimeout();

        Assert.Equal(4, events.Count);
        Assert.Equal(DiffusionV1.GenerateImageResponse.EventOneofCase.Result, events[^1].EventCase);
    }

    [Fact]
    public async Task KeysFile_RewrittenWithANewKey_NewKeyAcceptedWithoutRestart()
    {
        var carol = new TestKey("carol", $"carol-{Guid.NewGuid():N}", 1000, 1000, 10);
        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            _clip.GetModelInfoAsync(new MultiModal.Contracts.Clip.V1.GetModelInfoRequest(), carol.Bearer).ResponseAsync.DefaultTimeout());
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);

        fixture.WriteKeysFile([.. FrontDoorFixture.Keys, carol]);

        // The gateway watches the file's folder and reloads within a moment; poll until it has, bounded.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                var info = await _clip.GetModelInfoAsync(new MultiModal.Contracts.Clip.V1.GetModelInfoRequest(), carol.Bearer).ResponseAsync.DefaultTimeout();
                Assert.Equal("clip-a", info.ModelName);
                break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    [Fact]
    public async Task RestPost_NoKey_Http401WithWwwAuthenticateBearer()
    {
        using var http = RestClient(fixture.Gateway.Address);

        using var response = await http.PostAsync("/v1/embeddings", JsonBody("""{"input":"a cat"}""")).DefaultTimeout();

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Contains("api_key_missing", await response.Content.ReadAsStringAsync().DefaultTimeout());
    }

    /// <summary>An HTTP/2 (prior knowledge) client, as gRPC clients connect (the port also speaks HTTP/1.1).</summary>
    internal static HttpClient RestClient(Uri address) => new()
    {
        BaseAddress = address,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    internal static StringContent JsonBody(string json) => new(json, new MediaTypeHeaderValue("application/json"));

    private static void AssertUnauthenticated(RpcException error, string reason)
    {
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        var info = error.GetRpcStatus()?.GetDetail<ErrorInfo>();
        Assert.NotNull(info);
        Assert.Equal(reason, info.Reason);
        Assert.Equal("multimodal", info.Domain);
    }
}
