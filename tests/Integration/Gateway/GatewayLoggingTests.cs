using System.Text.Json;
using Grpc.Net.Client;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Tests.Integration.Clip;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Gateway;

/// <summary>
/// What an operator reads from the gateway: by default no line per proxied request (YARP's forwarder chatter is below
/// the configured level), and with <c>Logging:Format=json</c> one JSON object per line, as the services write.
/// </summary>
public sealed class GatewayLoggingTests : IAsyncLifetime
{
    private ServiceProcess _clip = null!;

    public async Task InitializeAsync() =>
        _clip = await ServiceProcess.StartAsync(BuildOutputs.Dll("services/Clip", "Clip"), [$"--Clip:ModelPath={ClipFleetFixture.ModelFolder}"]);

    public Task DisposeAsync()
    {
        _clip.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ProxiedCalls_DefaultLogging_NoLinePerRequest()
    {
        using var gateway = await GatewayFleet.StartGatewayAsync("clip", _clip.Address);

        await CallThroughAsync(gateway, calls: 3);

        Assert.DoesNotContain("Proxying to", gateway.Output);
        Assert.DoesNotContain("Received HTTP/2", gateway.Output);
    }

    [Fact]
    public async Task ProxiedCalls_LoggingFormatJson_EveryLineIsOneJsonObject()
    {
        using var gateway = await GatewayFleet.StartGatewayAsync("clip", _clip.Address, ["--Logging:Format=json"]);

        await CallThroughAsync(gateway, calls: 1);

        var lines = gateway.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.Contains("Now listening on", StringComparison.Ordinal));
        foreach (var line in lines)
        {
            using var entry = JsonDocument.Parse(line);   // throws on a plain-text line
            Assert.True(entry.RootElement.TryGetProperty("Timestamp", out _), line);
            Assert.True(entry.RootElement.TryGetProperty("LogLevel", out _), line);
        }
    }

    private static async Task CallThroughAsync(ServiceProcess gateway, int calls)
    {
        using var channel = GrpcChannel.ForAddress(gateway.Address);
        var client = new ClipService.ClipServiceClient(channel);
        await GatewayFleet.WaitUntilRoutedAsync(deadline => client.GetModelInfoAsync(new GetModelInfoRequest(), deadline: deadline).ResponseAsync);
        for (var i = 0; i < calls; i++)
            await client.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "a photo of a cat" } }).ResponseAsync.DefaultTimeout();
    }
}
