using System.Net;
using Google.Rpc;
using Grpc.Core;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Tests.Integration.Gateway.Backends;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Gateway.FrontDoor;

/// <summary>Per-key limits at the gateway: rate (weighted token bucket), open calls, and request size.</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class RateLimitTests(FrontDoorFixture fixture)
{
    private readonly ClipService.ClipServiceClient _clip = new(fixture.Channel);
    private readonly DiffusionService.DiffusionServiceClient _diffusion = new(fixture.Channel);

    [Fact]
    public async Task UnaryCalls_OverTheKeysRate_ResourceExhaustedWithRetryInfo()
    {
        var key = FrontDoorFixture.UnaryLimited;   // a bucket of 2, refilled one token per 20 s
        for (var i = 0; i < key.Burst; i++)
            await _clip.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "a" } }, key.Bearer).ResponseAsync.DefaultTimeout();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _clip.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "a" } }, key.Bearer).ResponseAsync.DefaultTimeout());

        AssertRateLimited(error, key.Name);
    }

    [Fact]
    public async Task ServerStreamingCalls_OverTheKeysRate_ResourceExhaustedWithRetryInfo()
    {
        var key = FrontDoorFixture.StreamLimited;   // GenerateImage weighs 20, capped at the bucket of 2: one call empties it
        using (var first = _diffusion.GenerateImage(new GenerateImageRequest { Prompt = $"rate {Guid.NewGuid():N}", Steps = 1 }, key.Bearer))
            await first.ResponseStream.ReadAllAsync().ToListAsync().AsTask().DefaultTimeout();

        using var second = _diffusion.GenerateImage(new GenerateImageRequest { Prompt = $"rate {Guid.NewGuid():N}", Steps = 1 }, key.Bearer);
        var error = await Assert.ThrowsAsync<RpcException>(() => second.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());

        AssertRateLimited(error, key.Name);
    }

    [Fact]
    public async Task GenerateImage_WeighsMoreThanTheBucket_TakesAllOfItSoTheNextUnaryCallIsRefused()
    {
        var key = FrontDoorFixture.Weighted;   // bucket of 5: five EmbedTexts would pass, but not after one GenerateImage
        using (var generation = _diffusion.GenerateImage(new GenerateImageRequest { Prompt = $"weight {Guid.NewGuid():N}", Steps = 1 }, key.Bearer))
            await generation.ResponseStream.ReadAllAsync().ToListAsync().AsTask().DefaultTimeout();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _clip.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "a" } }, key.Bearer).ResponseAsync.DefaultTimeout());

        AssertRateLimited(error, key.Name);
    }

    [Fact]
    public async Task OpenStream_AtTheKeysConcurrencyLimit_NextCallRefusedUntilTheStreamEnds()
    {
        var key = FrontDoorFixture.Narrow;   // one call open at a time
        var prompt = $"{ScriptedDiffusionBackend.HangPrefix}{Guid.NewGuid():N}";
        using var cts = new CancellationTokenSource();
        using (var open = _diffusion.GenerateImage(new GenerateImageRequest { Prompt = prompt, Steps = 2 }, key.Bearer, cancellationToken: cts.Token))
        {
            Assert.True(await open.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());

            var error = await Assert.ThrowsAsync<RpcException>(() =>
                _clip.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "a" } }, key.Bearer).ResponseAsync.DefaultTimeout());
            AssertRateLimited(error, key.Name);
            Assert.Equal("maxConcurrent", error.GetRpcStatus()!.GetDetail<ErrorInfo>().Metadata["limit"]);

            cts.Cancel();
            await fixture.Diffusion.Call(prompt).Cancelled.Task.DefaultTimeout();
        }

        // The slot frees when the gateway has finished the cancelled call: poll for it, bounded.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                var response = await _clip.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "ab" } }, key.Bearer).ResponseAsync.DefaultTimeout();
                Assert.Equal([2f], response.Embeddings.Single().Values);
                break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    [Fact]
    public async Task UnaryCall_BodyOverTheGatewaysLimit_ResourceExhaustedRequestTooLarge()
    {
        var tooLong = new string('x', FrontDoorFixture.MaxBodyBytes + 1024);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _clip.EmbedTextsAsync(new EmbedTextsRequest { Texts = { tooLong } }, FrontDoorFixture.Alice.Bearer).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        var info = error.GetRpcStatus()!.GetDetail<ErrorInfo>();
        Assert.Equal("REQUEST_TOO_LARGE", info.Reason);
        Assert.Equal(FrontDoorFixture.MaxBodyBytes.ToString(), info.Metadata["limitBytes"]);
        // The gateway still serves the same key afterwards.
        var ok = await _clip.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "abc" } }, FrontDoorFixture.Alice.Bearer).ResponseAsync.DefaultTimeout();
        Assert.Equal([3f], ok.Embeddings.Single().Values);
    }

    [Fact]
    public async Task RestPost_OverTheKeysRate_Http429WithRetryAfter()
    {
        var key = FrontDoorFixture.RestLimited;   // a bucket of 1
        using var http = ApiKeyTests.RestClient(fixture.Gateway.Address);
        http.DefaultRequestHeaders.Authorization = new("Bearer", key.Key);

        using var first = await http.PostAsync("/v1/embeddings", ApiKeyTests.JsonBody("""{"input":"a"}""")).DefaultTimeout();
        using var second = await http.PostAsync("/v1/embeddings", ApiKeyTests.JsonBody("""{"input":"a"}""")).DefaultTimeout();

        Assert.NotEqual(HttpStatusCode.TooManyRequests, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.True(second.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"Retry-After: {second.Headers.RetryAfter}");
        Assert.Contains("rate_limited", await second.Content.ReadAsStringAsync().DefaultTimeout());
    }

    private static void AssertRateLimited(RpcException error, string keyName)
    {
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        var status = error.GetRpcStatus();
        Assert.NotNull(status);
        var info = status.GetDetail<ErrorInfo>();
        Assert.Equal("RATE_LIMITED", info.Reason);
        Assert.Equal(keyName, info.Metadata["keyName"]);
        var retry = status.GetDetail<RetryInfo>();
        Assert.NotNull(retry);
        Assert.True(retry.RetryDelay.ToTimeSpan() > TimeSpan.Zero, $"retry_delay {retry.RetryDelay}");
    }
}
