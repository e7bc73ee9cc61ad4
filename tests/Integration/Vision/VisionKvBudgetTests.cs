using Grpc.Net.Client;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Vision;

/// <summary>
/// Vision:MaxBatchTokens bounds the KV-cache positions running generations hold together: a second Vision process
/// (same tiny model) with a budget of 60 positions, where a golden request holds 31 + 20 = 51.
/// </summary>
[Collection(VisionFleetCollection.Name)]
public sealed class VisionKvBudgetTests(VisionFleetFixture fleet) : IAsyncLifetime
{
    private const long Budget = 60;
    private ServiceProcess _vision = null!;
    private GrpcChannel _channel = null!;

    public async Task InitializeAsync()
    {
        _vision = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Vision", "Vision"),
            [$"--Vision:ModelPath={VisionFleetFixture.ModelFolder}", $"--Vision:MaxBatchTokens={Budget}"]);
        _channel = GrpcChannel.ForAddress(_vision.Address);
    }

    [Fact]
    public async Task Describe_TwoRequestsOverTheBudgetTogether_SecondWaitsForTheFirstAndBothGetTheGoldenText()
    {
        var client = new VisionService.VisionServiceClient(_channel);
        var longRequest = VisionThroughGatewayTests.ToStream(fleet.GoldenRequest(0));
        longRequest.MaxTokens = 200;                                                    // 231 positions: over the budget, runs alone
        using var longCall = client.DescribeStream(longRequest);
        Assert.True(await longCall.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());

        var second = client.DescribeAsync(fleet.GoldenRequest(1)).ResponseAsync;        // 51 positions: must wait
        var longText = longCall.ResponseStream.Current.Delta;
        while (await longCall.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
            longText += longCall.ResponseStream.Current.Delta;
        var answer = await second.DefaultTimeout();
        var stats = (await client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout()).Stats;

        Assert.Equal(fleet.GoldenText(1), answer.Text);
        Assert.Equal(1u, stats.MaxRequestsInBatch);                                     // never stepped together (unbounded: 2)
        Assert.NotEmpty(longText);
        Assert.Matches(@"KV cache: \d+ bytes per position; MaxBatchSize 8, MaxBatchTokens 60", _vision.Output);
    }

    public Task DisposeAsync()
    {
        _channel.Dispose();
        _vision.Dispose();
        return Task.CompletedTask;
    }
}
