using MultiModal.Contracts.Vision.V1;
using MultiModal.Tests.Integration.Overload;
using MultiModal.Tests.Testing;
using Xunit;
using Xunit.Abstractions;

namespace MultiModal.Tests.Integration.Vision;

/// <summary>The CI version of <c>make bench-overload</c> for Vision: far more streams than slots + queue.</summary>
[Collection(VisionFleetCollection.Name)]
public sealed class VisionOverloadTests(VisionFleetFixture fleet, ITestOutputHelper output)
{
    // 200-token answers keep a slot for hundreds of decode steps; 12 clients against 3 slots + a queue of 2 means
    // at least 7 calls are refused whenever the slots are busy, and a refused client asks again at once.
    private const int Clients = 12;
    private const uint LongAnswer = 200;

    [Fact]
    public async Task DescribeStream_BurstOfTwelveClientsOnThreeSlotsAndAQueueOfTwo_EveryCallServedOrShedWithRetryInfoThenServesAgain()
    {
        var before = (await fleet.Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout()).Stats;
        var request = fleet.GoldenRequest(0);
        request.MaxTokens = LongAnswer;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var burst = await OverloadBurst.RunAsync(Clients, TimeSpan.FromSeconds(3), maxCallsPerClient: 200, TimeSpan.FromSeconds(30), async deadline =>
        {
            using var call = fleet.Client.DescribeStream(VisionThroughGatewayTests.ToStream(request), deadline: deadline);
            var last = new DescribeStreamResponse();
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
                last = call.ResponseStream.Current;
            Assert.Equal(LongAnswer, last.Usage.CompletionTokens);
        });
        output.WriteLine($"{burst} in {watch.Elapsed.TotalSeconds:F1} s");
        var afterwards = await fleet.Client.DescribeAsync(fleet.GoldenRequest(1)).ResponseAsync.DefaultTimeout();
        var after = (await fleet.Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout()).Stats;

        Assert.Empty(burst.Unexpected);
        Assert.Equal(burst.Started, burst.Ended);
        Assert.Equal(burst.Started, burst.Ok + burst.Shed + burst.DeadlineExceeded);
        Assert.True(burst.Shed >= 1, $"nothing shed: {burst}");
        Assert.True(burst.Ok >= 1, $"nothing served: {burst}");
        Assert.Equal((ulong)burst.Shed, after.RequestsRejected - before.RequestsRejected);
        Assert.Equal(fleet.GoldenText(1), afterwards.Text);
    }
}
