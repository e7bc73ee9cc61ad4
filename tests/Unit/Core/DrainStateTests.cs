using Grpc.Core;
using Microsoft.Extensions.Options;
using MultiModal.Contracts.Common.V1;
using MultiModal.Core.Errors;
using MultiModal.Core.Hosting.Drain;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Unit.Core;

public sealed class DrainStateTests
{
    private static DrainState NewDrain(int drainSeconds = 3) => new(Options.Create(new DrainOptions { DrainSeconds = drainSeconds }));

    [Fact]
    public void TryEnter_AfterBegin_RefusesWhileCallsInsideStayCounted()
    {
        using var drain = NewDrain();
        using var inside = drain.TryEnter(CancellationToken.None);

        var began = drain.Begin();
        var refused = drain.TryEnter(CancellationToken.None);

        Assert.NotNull(inside);
        Assert.Equal((1, 0), began);
        Assert.Null(refused);
        Assert.True(drain.IsDraining);
        Assert.Equal(1, drain.InFlight);
        Assert.Null(drain.Begin()); // only the first Begin reports
    }

    [Fact]
    public void Begin_QueuesAdded_EachRejectsItsWaitersWithDrainingAndTheTotalIsReported()
    {
        using var drain = NewDrain(drainSeconds: 3);
        var reasons = new List<InferenceException>();
        drain.AddQueue(reason => { reasons.Add(reason); return 2; });
        drain.AddQueue(reason => { reasons.Add(reason); return 1; });

        var began = drain.Begin();
        drain.AddQueue(reason => { reasons.Add(reason); return 0; }); // added late: called at once

        Assert.Equal((0, 3), began);
        Assert.Equal(3, reasons.Count);
        Assert.All(reasons, r =>
        {
            Assert.Equal(StatusCode.Unavailable, r.Code);
            Assert.Equal(ErrorReason.Draining, r.Reason);
            Assert.Equal("3", r.Metadata["drainSeconds"]);
            Assert.NotNull(r.RetryAfter);
        });
    }

    [Fact]
    public async Task WaitForCallsAsync_CallsInFlight_CompletesWhenTheLastOneLeaves()
    {
        using var drain = NewDrain();
        var first = drain.TryEnter(CancellationToken.None)!;
        var second = drain.TryEnter(CancellationToken.None)!;
        drain.Begin();

        var idle = drain.WaitForCallsAsync();
        first.Dispose();
        var afterFirst = idle.IsCompleted;
        first.Dispose(); // idempotent: does not count the second call out
        var afterDoubleDispose = idle.IsCompleted;
        second.Dispose();

        await idle.DefaultTimeout();
        Assert.False(afterFirst);
        Assert.False(afterDoubleDispose);
        Assert.Equal(0, drain.InFlight);
        Assert.True(drain.WaitForCallsAsync().IsCompletedSuccessfully);
    }

    [Fact]
    public void CancelRemaining_CallsInFlight_FiresTheirTokensAsTheDrainsCancellation()
    {
        using var drain = NewDrain();
        using var client = new CancellationTokenSource();
        using var call = drain.TryEnter(client.Token)!;
        drain.Begin();
        var before = (call.Token.IsCancellationRequested, call.CancelledByDrain);

        var cancelled = drain.CancelRemaining();

        Assert.Equal((false, false), before);
        Assert.Equal(1, cancelled);
        Assert.True(call.Token.IsCancellationRequested);
        Assert.True(call.CancelledByDrain);
        Assert.False(client.IsCancellationRequested);
    }

    [Fact]
    public void TryEnter_CallersOwnTokenFires_ScopeTokenFiresButNotAsTheDrainsCancellation()
    {
        using var drain = NewDrain();
        using var client = new CancellationTokenSource();
        using var call = drain.TryEnter(client.Token)!;

        client.Cancel();

        Assert.True(call.Token.IsCancellationRequested);
        Assert.False(call.CancelledByDrain);
    }
}
