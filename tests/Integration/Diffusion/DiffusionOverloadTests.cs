using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Tests.Integration.Overload;
using MultiModal.Tests.Testing;
using Xunit;
using Xunit.Abstractions;
using static MultiModal.Tests.Integration.Diffusion.DiffusionStreams;

namespace MultiModal.Tests.Integration.Diffusion;

/// <summary>The CI version of <c>make bench-overload</c> for Diffusion: far more generations than one running + the queue.</summary>
[Collection(DiffusionFleetCollection.Name)]
public sealed class DiffusionOverloadTests(DiffusionFleetFixture fleet, ITestOutputHelper output) : IAsyncLifetime
{
    // One job runs at a time and MaxQueueLength (2) wait: with 8 clients at least 5 calls are refused whenever a job
    // runs, and a refused client asks again at once.
    private const int Clients = 8;

    public Task InitializeAsync() => fleet.WaitUntilIdleAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task GenerateImage_BurstOfEightClientsOnAQueueOfTwo_EveryCallServedOrShedWithRetryInfoThenServesAgain()
    {
        var before = await fleet.InfoAsync();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var burst = await OverloadBurst.RunAsync(Clients, TimeSpan.FromSeconds(3), maxCallsPerClient: 200, TimeSpan.FromSeconds(30), async deadline =>
        {
            using var call = fleet.Client.GenerateImage(new GenerateImageRequest
            {
                Prompt = "overload", Steps = 3, Scheduler = Scheduler.Euler, Preview = new PreviewOptions { EveryNSteps = 1 },
            }, deadline: deadline);
            var events = new List<GenerateImageResponse>();
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
                events.Add(call.ResponseStream.Current);
            Assert.Equal(3u, SingleResultLast(events).StepsRun);
        });
        output.WriteLine($"{burst} in {watch.Elapsed.TotalSeconds:F1} s");
        var afterwards = await ReadAllAsync(fleet.Client.GenerateImage(new GenerateImageRequest { Prompt = "afterwards", Steps = 2 }));
        var after = await fleet.InfoAsync();

        Assert.Empty(burst.Unexpected);
        Assert.Equal(burst.Started, burst.Ended);
        Assert.Equal(burst.Started, burst.Ok + burst.Shed + burst.DeadlineExceeded);
        Assert.True(burst.Shed >= 1, $"nothing shed: {burst}");
        Assert.True(burst.Ok >= 1, $"nothing served: {burst}");
        Assert.Equal((ulong)burst.Shed, after.Stats.RequestsRejected - before.Stats.RequestsRejected);
        Assert.Equal(2u, SingleResultLast(afterwards).StepsRun);
    }
}
