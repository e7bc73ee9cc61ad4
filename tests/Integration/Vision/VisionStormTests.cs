using Grpc.Core;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Vision;

/// <summary>
/// A bounded storm of mixed calls through the gateway, arriving in overlapping waves: unary golden requests, streams
/// cancelled after 0-3 deltas (some while queued or still prefilling, in 8-position chunks), and calls with deadlines
/// of 20-300 ms. Every call must end with a status a client can act on, the answers that complete must be the golden
/// ones, and the service must come out of it idle, error-free and still exact.
/// </summary>
[Collection(VisionFleetCollection.Name)]
public sealed class VisionStormTests(VisionFleetFixture fleet)
{
    private const int Waves = 6, CallsPerWave = 5;
    private const uint LongAnswer = 120;

    private static readonly StatusCode[] Expected = [StatusCode.OK, StatusCode.Cancelled, StatusCode.DeadlineExceeded, StatusCode.ResourceExhausted];

    [Fact]
    public async Task MixedCallsCancelledDeadlinedAndShed_EachEndsWithAClearStatusAndTheServiceStaysExact()
    {
        var logBefore = fleet.Vision.Output.Length;
        var random = new Random(20261127);
        var calls = new List<Task<(string Kind, StatusCode Status, string? Detail)>>();
        for (var wave = 0; wave < Waves; wave++)
        {
            for (var i = 0; i < CallsPerWave; i++)
            {
                var index = random.Next(3);
                calls.Add((random.Next(3)) switch
                {
                    0 => Unary(index),
                    1 => StreamCancelledAfter(index, random.Next(4)),
                    _ => WithDeadline(index, TimeSpan.FromMilliseconds(random.Next(20, 300))),
                });
            }
            await Task.Delay(random.Next(50, 250));
        }
        var outcomes = await Task.WhenAll(calls).DefaultTimeout();

        Assert.All(outcomes, o => Assert.True(Expected.Contains(o.Status), $"{o.Kind} ended with {o.Status}: {o.Detail}"));
        Assert.Contains(outcomes, o => o.Status == StatusCode.OK);
        Assert.Contains(outcomes, o => o.Status == StatusCode.Cancelled);
        await WaitUntilIdleAsync();
        var after = await fleet.Client.DescribeAsync(fleet.GoldenRequest(2)).ResponseAsync.DefaultTimeout();
        Assert.Equal(fleet.GoldenText(2), after.Text);
        var log = fleet.Vision.Output[logBefore..];
        var errors = log.Split('\n').SkipWhile(l => !l.Contains(" fail:") && !l.Contains(" crit:")).Take(20).ToList();
        Assert.True(errors.Count == 0, $"the service logged an error:\n{string.Join('\n', errors)}");
    }

    // A golden request: when it is answered, it is the golden text.
    private async Task<(string, StatusCode, string?)> Unary(int index)
    {
        try
        {
            var response = await fleet.Client.DescribeAsync(fleet.GoldenRequest(index)).ResponseAsync;
            return ("unary", response.Text == fleet.GoldenText(index) ? StatusCode.OK : StatusCode.DataLoss, response.Text);
        }
        catch (RpcException e)
        {
            return ("unary", e.StatusCode, e.Status.Detail);
        }
    }

    private async Task<(string, StatusCode, string?)> StreamCancelledAfter(int index, int deltas)
    {
        using var cts = new CancellationTokenSource();
        var request = VisionThroughGatewayTests.ToStream(fleet.GoldenRequest(index));
        request.MaxTokens = LongAnswer;
        using var call = fleet.Client.DescribeStream(request, cancellationToken: cts.Token);
        try
        {
            for (var seen = 0; seen < deltas && await call.ResponseStream.MoveNext(CancellationToken.None); seen++)
            {
            }
            cts.Cancel();
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
            return ($"stream cancelled after {deltas}", StatusCode.OK, null);
        }
        catch (RpcException e)
        {
            return ($"stream cancelled after {deltas}", e.StatusCode, e.Status.Detail);
        }
    }

    private async Task<(string, StatusCode, string?)> WithDeadline(int index, TimeSpan deadline)
    {
        var request = fleet.GoldenRequest(index);
        request.MaxTokens = LongAnswer;
        try
        {
            var response = await fleet.Client.DescribeAsync(request, deadline: DateTime.UtcNow + deadline).ResponseAsync;
            return ($"deadline {deadline.TotalMilliseconds} ms", response.Usage.CompletionTokens > 0 ? StatusCode.OK : StatusCode.DataLoss, response.Text);
        }
        catch (RpcException e)
        {
            return ($"deadline {deadline.TotalMilliseconds} ms", e.StatusCode, e.Status.Detail);
        }
    }

    private async Task WaitUntilIdleAsync()
    {
        var deadline = DateTime.UtcNow + MultiModal.Tests.Testing.TaskExtensions.DefaultTimeoutSpan;
        while ((await fleet.Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout()).Stats.QueueDepth > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the queue did not drain");
            await Task.Delay(20);
        }
    }
}
