using Google.Rpc;
using Grpc.Core;
using MultiModal.Contracts.Common.V1;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Vision;

/// <summary>Cancellation, deadlines and load shedding of the one device queue, through the gateway.</summary>
[Collection(VisionFleetCollection.Name)]
public sealed partial class VisionServingTests(VisionFleetFixture fleet)
{
    // The tiny model's context is 256 and the golden prompts take 31: a long answer has room for 200 tokens.
    private const uint LongAnswer = 200;

    [Fact]
    public async Task DescribeStream_CancelledAfterFirstDelta_StopsAndServiceServesTheNextRequest()
    {
        var before = (await fleet.Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout()).Stats;
        var cancelledBefore = CancelledGeneration().Matches(fleet.Vision.Output).Count;
        using var cts = new CancellationTokenSource();
        var request = VisionThroughGatewayTests.ToStream(fleet.GoldenRequest(0));
        request.MaxTokens = LongAnswer;
        using var call = fleet.Client.DescribeStream(request, cancellationToken: cts.Token);

        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        Assert.NotEmpty(call.ResponseStream.Current.Delta);
        cts.Cancel();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout()) { }
        });

        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        // The generation itself stopped early (at the next token after the cancel), not just the stream.
        var cancelled = await fleet.Vision.WaitForLogAsync(CancelledGeneration(), cancelledBefore);
        Assert.True(int.Parse(cancelled.Groups["tokens"].Value) < LongAnswer, cancelled.Value);
        var next = await fleet.Client.DescribeAsync(fleet.GoldenRequest(1)).ResponseAsync.DefaultTimeout();
        Assert.Equal(fleet.GoldenText(1), next.Text);
        var after = (await fleet.Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout()).Stats;
        Assert.Equal(2ul, after.RequestsAccepted - before.RequestsAccepted);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"Generated (?<tokens>\d+) tokens after a 31-token prompt \(Cancelled\)")]
    private static partial System.Text.RegularExpressions.Regex CancelledGeneration();

    [Fact]
    public async Task Describe_DeadlineShorterThanGeneration_DeadlineExceededAndServiceKeepsServing()
    {
        var request = fleet.GoldenRequest(0);
        request.MaxTokens = LongAnswer;

        // A slower or busier machine only makes the deadline pass sooner; it fails only if the whole call (gateway hop,
        // prefill, 200 decode steps) took under 30 ms, a tenth of what it takes on the Zen 5 test machine.
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            fleet.Client.DescribeAsync(request, deadline: DateTime.UtcNow.AddMilliseconds(30)).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        var next = await fleet.Client.DescribeAsync(fleet.GoldenRequest(2)).ResponseAsync.DefaultTimeout();
        Assert.Equal(fleet.GoldenText(2), next.Text);
    }

    [Fact]
    public async Task Describe_CallsArrivingWhileAnotherGenerates_JoinItsDecodeStepsAndGetTheGoldenText()
    {
        var before = (await fleet.Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout()).Stats;
        var longRequest = VisionThroughGatewayTests.ToStream(fleet.GoldenRequest(0));
        longRequest.MaxTokens = LongAnswer;
        using var longCall = fleet.Client.DescribeStream(longRequest);
        Assert.True(await longCall.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());   // it is generating

        var answers = await Task.WhenAll(Enumerable.Range(1, 2).Select(i => fleet.Client.DescribeAsync(fleet.GoldenRequest(i)).ResponseAsync)).DefaultTimeout();
        var tokens = 0u;
        while (await longCall.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
            tokens += longCall.ResponseStream.Current.Usage?.CompletionTokens ?? 0;
        var after = (await fleet.Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout()).Stats;

        for (var i = 1; i <= 2; i++)
            Assert.Equal(fleet.GoldenText(i), answers[i - 1].Text);
        Assert.Equal(LongAnswer, tokens);
        // Alone, every token after a prefill's first is one decode step: 199 + 2 × 19. Batched, the short answers'
        // steps are the long answer's steps too.
        var steps = (long)(after.BatchesRun - before.BatchesRun);
        var tokensAfterPrefill = LongAnswer - 1 + answers.Sum(a => (long)a.Usage.CompletionTokens - 1);
        Assert.True(steps < tokensAfterPrefill, $"{steps} decode steps for {tokensAfterPrefill} tokens after the prefills");
        Assert.True(after.MaxRequestsInBatch >= 2, $"at most {after.MaxRequestsInBatch} generation(s) per step");
    }

    // The tiny model decodes a 200-token answer in a few hundred milliseconds, so "all slots running and the queue
    // full" lasts only that long: an attempt whose running answers finished before the queue could be seen full (or
    // before the extra call arrived) proves nothing either way and is run again, at most three times.
    [Fact]
    public async Task Describe_AllSlotsRunningAndQueueFull_NextCallShedWithQueueFullAndTheOthersServed()
    {
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            if (await TryShedWhileFullAsync())
                return;
            await fleet.Client.DescribeAsync(fleet.GoldenRequest(0)).ResponseAsync.DefaultTimeout();   // settle
        }
        Assert.Fail("the queue was never seen full with every slot running in three attempts");
    }

    /// <summary>False when the window closed before the precondition held (nothing asserted then).</summary>
    private async Task<bool> TryShedWhileFullAsync()
    {
        var before = (await fleet.Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout()).Stats;
        DescribeRequest Long()
        {
            var request = fleet.GoldenRequest(0);
            request.MaxTokens = LongAnswer;
            return request;
        }

        // 1. MaxBatchSize (3) long generations running: each has streamed its first text, ~200 tokens still to go.
        var running = new List<AsyncServerStreamingCall<DescribeStreamResponse>>();
        for (var i = 0; i < VisionFleetFixture.MaxBatchSize; i++)
        {
            var call = fleet.Client.DescribeStream(VisionThroughGatewayTests.ToStream(Long()));
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
            running.Add(call);
        }
        // 2. MaxQueueLength (2) waiting, seen in the service's own queue depth, unless a waiting one was already admitted.
        var waiting = Enumerable.Range(0, VisionFleetFixture.MaxQueueLength).Select(_ => fleet.Client.DescribeAsync(Long()).ResponseAsync).ToList();
        var queued = (ulong)(VisionFleetFixture.MaxBatchSize + VisionFleetFixture.MaxQueueLength);
        ServingStats stats = null!;
        await WaitUntilAsync(async () =>
        {
            stats = (await fleet.Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync).Stats;
            return stats.QueueDepth == VisionFleetFixture.MaxQueueLength || stats.RequestsAccepted - before.RequestsAccepted == queued;
        });
        var full = stats.QueueDepth == VisionFleetFixture.MaxQueueLength;

        // 3. One more is shed at once (the running ones are hundreds of steps from done).
        var extra = full ? await Record(() => fleet.Client.DescribeAsync(Long()).ResponseAsync.DefaultTimeout()) : null;
        foreach (var call in running) call.Dispose();               // cancelled, to save time
        var served = await Task.WhenAll(waiting).DefaultTimeout();
        if (extra is null)
            return false;                                           // not full, or a slot freed before the extra call
        var shed = Assert.IsType<RpcException>(extra);

        Assert.Equal(StatusCode.ResourceExhausted, shed.StatusCode);
        var status = shed.GetRpcStatus()!;
        Assert.Equal("QUEUE_FULL", status.GetDetail<ErrorInfo>().Reason);
        Assert.NotNull(status.GetDetail<RetryInfo>());
        // The waiting ones are served in full once the running ones end.
        Assert.All(served, r => Assert.Equal(LongAnswer, r.Usage.CompletionTokens));
        var after = (await fleet.Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout()).Stats;
        Assert.Equal(1ul, after.RequestsRejected - before.RequestsRejected);
        Assert.Equal(queued, after.RequestsAccepted - before.RequestsAccepted);
        return true;
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

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + MultiModal.Tests.Testing.TaskExtensions.DefaultTimeoutSpan;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(5);
        }
    }
}
