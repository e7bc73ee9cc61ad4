using Grpc.Core;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Clip;

/// <summary>Deadlines, cancellation and cross-client batching, through the gateway.</summary>
public sealed class ClipServingTests(ClipFleetFixture fleet) : IClassFixture<ClipFleetFixture>
{
    [Fact]
    public async Task EmbedTexts_DeadlineAlreadyTight_DeadlineExceededAndServiceKeepsServing()
    {
        var call = fleet.Client.EmbedTextsAsync(new EmbedTextsRequest { Texts = { ManyTexts(256) } }, deadline: DateTime.UtcNow.AddMilliseconds(2));

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        await AssertServingAsync();
    }

    [Fact]
    public async Task EmbedTexts_CancelledByClient_CancelledAndServiceKeepsServing()
    {
        using var cts = new CancellationTokenSource();
        var call = fleet.Client.EmbedTextsAsync(new EmbedTextsRequest { Texts = { ManyTexts(256) } }, cancellationToken: cts.Token);
        cts.CancelAfter(TimeSpan.FromMilliseconds(5));

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        await AssertServingAsync();
    }

    [Fact]
    public async Task EmbedTexts_SixtyFourConcurrentClients_ServedInSharedBatches()
    {
        var before = (await fleet.Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout()).Stats;

        var calls = Enumerable.Range(0, 64)
            .Select(i => fleet.Client.EmbedTextsAsync(new EmbedTextsRequest { Texts = { $"client {i} says hello" } }).ResponseAsync)
            .ToList();
        var responses = await Task.WhenAll(calls).DefaultTimeout();

        var after = (await fleet.Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout()).Stats;
        Assert.All(responses, r => Assert.Single(r.Embeddings));
        Assert.Equal(64ul, after.RequestsAccepted - before.RequestsAccepted);
        var batches = after.BatchesRun - before.BatchesRun;
        Assert.True(batches < 64, $"64 requests ran in {batches} batches: none were shared");
        Assert.True(after.MaxRequestsInBatch > 1, "no batch served more than one request");
        // Distinct texts from distinct clients: each caller got its own row back, not a neighbour's.
        Assert.Equal(64, responses.Select(r => string.Join(",", r.Embeddings[0].Values.Take(4))).Distinct().Count());
    }

    private async Task AssertServingAsync()
    {
        var ok = await fleet.Client.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "still serving" } }).ResponseAsync.DefaultTimeout();
        Assert.Single(ok.Embeddings);
    }

    private static IEnumerable<string> ManyTexts(int n) =>
        Enumerable.Range(0, n).Select(i => string.Join(' ', Enumerable.Repeat($"word{i} photo of many things", 20)));
}
