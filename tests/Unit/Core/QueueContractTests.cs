using Grpc.Core;
using MultiModal.Contracts.Common.V1;
using MultiModal.Core.Errors;
using MultiModal.Core.Inference;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Unit.Core;

/// <summary>
/// What every queue of the fleet does the same way, because it is the one admission core (RequestQueue): deadlines
/// while waiting, draining with RejectWaiting, and one set of metrics tagged with the queue's name.
/// </summary>
public sealed class QueueContractTests
{
    public static TheoryData<string> Kinds => QueueHarness.Kinds;

    private static string UniqueName(string kind) => $"{kind}-{Guid.NewGuid():N}";

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Deadline_PassesWhileWaiting_FailsDeadlineTooShortAtOnceAndNeverRuns(string kind)
    {
        var name = UniqueName(kind);
        using var recorder = new MeterRecorder(QueueInstruments.MeterName, name);
        using var queue = QueueHarness.Create(kind, name);
        var running = await queue.OccupyAsync();

        var late = queue.Enqueue(1, DateTime.UtcNow.AddMilliseconds(50));

        // The worker is still held inside request 0: the deadline alone answers the waiting request.
        var error = await Assert.ThrowsAsync<InferenceException>(() => late.DefaultTimeout());
        Assert.Equal(StatusCode.DeadlineExceeded, error.Code);
        Assert.Equal(ErrorReason.DeadlineTooShort, error.Reason);
        Assert.Equal(0, queue.QueueDepth);
        Assert.Equal([1.0], recorder.Values(QueueInstruments.Requests, "outcome", "deadline_exceeded"));
        queue.Hold.Set();
        await running.DefaultTimeout();
        Assert.Equal([0], queue.Ran);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Deadline_TokenFiresAfterTheDeadline_FailsDeadlineTooShortNotCancelled(string kind)
    {
        // gRPC cancels a call's token at its deadline: that must read as the deadline, not as a client cancel.
        using var queue = QueueHarness.Create(kind, UniqueName(kind));
        var running = await queue.OccupyAsync();
        using var call = new CancellationTokenSource();
        var deadline = DateTime.UtcNow.AddMilliseconds(20);
        var late = queue.Enqueue(1, deadline, call.Token);
        while (DateTime.UtcNow <= deadline)                 // not a synchronisation: wall-clock time must pass the deadline
            await Task.Delay(5);

        call.Cancel();

        var error = await Assert.ThrowsAsync<InferenceException>(() => late.DefaultTimeout());
        Assert.Equal(ErrorReason.DeadlineTooShort, error.Reason);
        queue.Hold.Set();
        await running.DefaultTimeout();
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task RejectWaiting_RequestsWaiting_AnswersThemWithTheReasonAtOnceAndTheRunningOneFinishes(string kind)
    {
        var name = UniqueName(kind);
        using var recorder = new MeterRecorder(QueueInstruments.MeterName, name);
        using var queue = QueueHarness.Create(kind, name);
        var running = await queue.OccupyAsync();
        var waiting = new[] { queue.Enqueue(1), queue.Enqueue(2) };
        var draining = new InferenceException(StatusCode.Unavailable, ErrorReason.ModelNotReady, "draining");

        var answered = queue.RejectWaiting(draining);

        Assert.Equal(2, answered);
        foreach (var task in waiting)
            Assert.Same(draining, await Assert.ThrowsAsync<InferenceException>(() => task.DefaultTimeout()));
        Assert.Equal(0, queue.QueueDepth);
        Assert.Equal(2, recorder.Values(QueueInstruments.Requests, "outcome", "drained").Sum());
        queue.Hold.Set();
        await running.DefaultTimeout();
        await queue.Enqueue(3).DefaultTimeout();           // admission stays open
        Assert.Equal([0, 3], queue.Ran);
        Assert.Equal(0, queue.RejectWaiting(draining));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Metrics_CompletedAndShedRequests_SameInstrumentsForEveryQueueTaggedWithItsName(string kind)
    {
        var name = UniqueName(kind);
        using var recorder = new MeterRecorder(QueueInstruments.MeterName, name);
        using var queue = QueueHarness.Create(kind, name, maxQueueLength: 1);
        var running = await queue.OccupyAsync();
        var waiting = queue.Enqueue(1);

        var shed = Assert.Throws<InferenceException>(() => { _ = queue.Enqueue(2); });   // shed synchronously, never queued
        queue.Hold.Set();
        await Task.WhenAll(running, waiting).DefaultTimeout();

        Assert.Equal(ErrorReason.QueueFull, shed.Reason);
        Assert.Equal([1.0], recorder.Values(QueueInstruments.Rejected, "reason", "QUEUE_FULL"));
        Assert.Equal(2, recorder.Values(QueueInstruments.Requests, "outcome", "completed").Sum());
        Assert.Equal(2, recorder.Values(QueueInstruments.Wait).Count());
        Assert.Equal(2, recorder.Values(QueueInstruments.Duration, "outcome", "completed").Count());
        Assert.All(recorder.Values(QueueInstruments.Wait).Concat(recorder.Values(QueueInstruments.Duration)), v => Assert.True(v >= 0));
    }
}
