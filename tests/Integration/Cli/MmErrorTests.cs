using System.Security.Cryptography;
using System.Text;
using MultiModal.Tests.Testing;
using Xunit;
using ClipV1 = MultiModal.Contracts.Clip.V1;

namespace MultiModal.Tests.Integration.Cli;

/// <summary>
/// Failures as <c>mm</c> reports them: one line on stderr built from the AIP-193 details, and an exit code per class
/// (cli/Errors/ExitCodes.cs: 2 usage, 3 rejected, 4 unauthorized, 6 unavailable).
/// </summary>
[Collection(CliFleetCollection.Name)]
public sealed class MmErrorTests(CliFleetFixture fleet)
{
    [Fact]
    public async Task Generate_TooManySteps_OneLineWithReasonAndFieldExit3()
    {
        var result = await fleet.MmAsync("generate", "a cat", "--steps", "5000").DefaultTimeout();

        Assert.Equal(3, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("mm: INVALID_ARGUMENT [INVALID_INPUT] steps: ", line);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task Classify_MissingImageFile_UsageErrorExit2()
    {
        var result = await fleet.MmAsync("classify", "no-such-file.png", "cat").DefaultTimeout();

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("mm: cannot read image 'no-such-file.png'", result.Stderr);
    }

    [Fact]
    public async Task Generate_StepsNotANumber_UsageErrorExit2()
    {
        var result = await fleet.MmAsync("generate", "a cat", "--steps", "lots").DefaultTimeout();

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("mm: Cannot parse argument 'lots' for option '--steps'", result.Stderr);
    }

    [Fact]
    public async Task Embed_GatewayNotListening_UnavailableExit6()
    {
        var closed = new Uri(LoopbackPorts.ClosedUrl());

        var result = await MmProcess.RunAsync($"{closed.Host}:{closed.Port}", ["embed", "a cat"]).DefaultTimeout();

        Assert.Equal(6, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"mm: UNAVAILABLE cannot reach the gateway at {closed.Host}:{closed.Port}", line);
    }

    [Fact]
    public async Task Embed_KeysOnWithoutAndWithKey_Exit4ThenServed()
    {
        const string key = "mm-test-key";
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        using var gateway = await GatewayFleet.StartGatewayAsync("clip", fleet.Clip.Address,
            ["--Gateway:ApiKeys:0:Name=mm-test", $"--Gateway:ApiKeys:0:Sha256={sha256}"]);
        var address = $"{gateway.Address.Host}:{gateway.Address.Port}";
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(gateway.Address);
        var headers = new Grpc.Core.Metadata { { "authorization", $"Bearer {key}" } };
        await GatewayFleet.WaitUntilRoutedAsync(deadline => new ClipV1.ClipService.ClipServiceClient(channel)
            .GetModelInfoAsync(new ClipV1.GetModelInfoRequest(), headers, deadline).ResponseAsync);

        var without = await MmProcess.RunAsync(address, ["embed", "a cat"]).DefaultTimeout();
        var with = await MmProcess.RunAsync(address, ["embed", "a cat"], apiKey: key).DefaultTimeout();

        Assert.Equal(4, without.ExitCode);
        Assert.StartsWith("mm: UNAUTHENTICATED [", without.Stderr);
        Assert.True(with.ExitCode == 0, with.ToString());
        Assert.Contains("\"text\":\"a cat\"", with.Stdout);
    }
}
