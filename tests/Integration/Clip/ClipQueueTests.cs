using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Contracts.Common.V1;
using MultiModal.Tests.Integration.Overload;
using MultiModal.Tests.Testing;
using Xunit;
using Xunit.Abstractions;

namespace MultiModal.Tests.Integration.Clip;

/// <summary>CLIP's bounded queue through the gateway: QUEUE_FULL with RetryInfo, and a burst far beyond the bound.</summary>
public sealed class ClipQueueTests(ClipQueueFixture fleet, ITestOutputHelper output) : IClassFixture<ClipQueueFixture>
{
    private static readonly Image Png = new()
    {
        Data = ByteString.CopyFrom(File.ReadAllBytes(TestPaths.Fixture("tiny-clip", "images", "gradient_shapes_300x200.png"))),
    };

    // The queue holds its two waiting calls for MaxBatchWaitMs (1 s) from the first one's arrival. An attempt in which
    // the pass started before the test saw the queue full (a very slow machine) proves nothing either way and is run
    // again, at most three times.
    [Fact]
    public async Task EmbedImages_QueueFull_ResourceExhaustedQueueFullWithRetryInfoAndTheWaitingOnesServed()
    {
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            if (await TryShedWhileFullAsync())
                return;
        }
        Assert.Fail("the queue was never seen full in three attempts");
    }

    /// <summary>False when the pass started before the precondition was seen (nothing asserted then).</summary>
    private async Task<bool> TryShedWhileFullAsync()
    {
        var before = await fleet.StatsAsync();
        var waiting = Enumerable.Range(0, ClipQueueFixture.MaxQueueLength)
            .Select(i => fleet.Client.EmbedTextsAsync(new EmbedTextsRequest { Texts = { $"waiting {i}" } }).ResponseAsync).ToList();
        var stats = before;
        var deadline = DateTime.UtcNow + MultiModal.Tests.Testing.TaskExtensions.DefaultTimeoutSpan;
        while (stats.QueueDepth < ClipQueueFixture.MaxQueueLength && stats.BatchesRun == before.BatchesRun)
        {
            Assert.True(DateTime.UtcNow < deadline, "the waiting calls never reached the queue");
            stats = await fleet.StatsAsync();
        }
        Exception? extra = null;
        var full = stats.QueueDepth == ClipQueueFixture.MaxQueueLength;
        if (full)
            extra = await Record(() => fleet.Client.EmbedImagesAsync(new EmbedImagesRequest { Images = { Png } }).ResponseAsync.DefaultTimeout());
        var served = await Task.WhenAll(waiting).DefaultTimeout();
        var after = await fleet.StatsAsync();
        if (!full || extra is null)
            return false;                       // not seen full, or the pass ran before the extra call arrived

        var shed = Assert.IsType<RpcException>(extra);
        Assert.Equal(StatusCode.ResourceExhausted, shed.StatusCode);
        var status = shed.GetRpcStatus()!;
        Assert.Equal("QUEUE_FULL", status.GetDetail<ErrorInfo>().Reason);
        Assert.NotNull(status.GetDetail<RetryInfo>());
        Assert.All(served, r => Assert.Single(r.Embeddings));
        Assert.Equal(1ul, after.RequestsRejected - before.RequestsRejected);
        Assert.Equal((ulong)ClipQueueFixture.MaxQueueLength, after.RequestsAccepted - before.RequestsAccepted);
        return true;
    }

    // 16 clients against a queue of 2 that is only emptied once a second: of each second's calls at most 2 are
    // accepted, so nearly all are refused. Every call must end OK or QUEUE_FULL with RetryInfo, none may hang, and the
    // service must answer normally afterwards.
    [Fact]
    public async Task EmbedImages_BurstOfSixteenClientsOnAQueueOfTwo_EveryCallServedOrShedWithRetryInfoThenServesAgain()
    {
        var before = await fleet.StatsAsync();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var burst = await OverloadBurst.RunAsync(clients: 16, TimeSpan.FromSeconds(2.5), maxCallsPerClient: 200, TimeSpan.FromSeconds(20),
            deadline => fleet.Client.EmbedImagesAsync(new EmbedImagesRequest { Images = { Png } }, deadline: deadline).ResponseAsync);
        output.WriteLine($"{burst} in {watch.Elapsed.TotalSeconds:F1} s");
        var afterwards = await fleet.Client.EmbedTextsAsync(
            new EmbedTextsRequest { Texts = { Enumerable.Range(0, ClipQueueFixture.MaxBatchSize).Select(i => $"text {i}") } }).ResponseAsync.DefaultTimeout();
        var after = await fleet.StatsAsync();

        Assert.Empty(burst.Unexpected);
        Assert.Equal(burst.Started, burst.Ended);
        Assert.Equal(burst.Started, burst.Ok + burst.Shed + burst.DeadlineExceeded);
        Assert.True(burst.Shed >= 1, $"nothing shed: {burst}");
        Assert.True(burst.Ok >= 1, $"nothing served: {burst}");
        Assert.Equal((ulong)burst.Shed, after.RequestsRejected - before.RequestsRejected);
        Assert.Equal(ClipQueueFixture.MaxBatchSize, afterwards.Embeddings.Count);
    }

    private static async Task<Exception?> Record(Func<Task> call)
    {
        try
        {
            await call();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
