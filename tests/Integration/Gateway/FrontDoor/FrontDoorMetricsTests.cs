using Grpc.Core;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Gateway.FrontDoor;

/// <summary>The front door's metric counts calls by key name and outcome, and never shows a key.</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class FrontDoorMetricsTests(FrontDoorFixture fixture)
{
    private readonly ClipService.ClipServiceClient _clip = new(fixture.Channel);

    [Fact]
    public async Task Calls_ForwardedAndRefused_CountedByKeyNameAndOutcomeWithoutTheKey()
    {
        await _clip.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "a" } }, FrontDoorFixture.Alice.Bearer).ResponseAsync.DefaultTimeout();
        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            _clip.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "a" } }).ResponseAsync.DefaultTimeout());
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);

        var scrape = await PrometheusScrape.UntilAsync(fixture.MetricsPort,
            """^multimodal_gateway_calls_total\{[^}]*key="alice"[^}]*outcome="forwarded"[^}]*\} [1-9]""",
            """^multimodal_gateway_calls_total\{[^}]*key="anonymous"[^}]*outcome="unauthenticated"[^}]*\} [1-9]""").DefaultTimeout();

        Assert.DoesNotContain(FrontDoorFixture.Alice.Key, scrape);
        Assert.DoesNotContain(FrontDoorFixture.Alice.Key, fixture.Gateway.Output);
    }
}
