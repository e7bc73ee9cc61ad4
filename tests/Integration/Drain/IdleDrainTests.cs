using System.Text.RegularExpressions;
using MultiModal.Tests.Integration.Clip;
using MultiModal.Tests.Integration.Vision;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Drain;

/// <summary>
/// Every service drains on SIGTERM with its own section's DrainSeconds (the Diffusion drain under load is in
/// <see cref="Diffusion.DiffusionDrainTests"/>): an idle CLIP or Vision process logs the sequence and exits 0.
/// </summary>
public sealed class IdleDrainTests
{
    [Theory]
    [InlineData("Clip")]
    [InlineData("Vision")]
    public async Task Sigterm_IdleService_LogsTheDrainSequenceWithItsSectionsDrainSecondsAndExitsZero(string section)
    {
        var model = section == "Clip" ? ClipFleetFixture.ModelFolder : VisionFleetFixture.ModelFolder;
        using var service = await ServiceProcess.StartAsync(BuildOutputs.Dll($"services/{section}", section),
            [$"--{section}:ModelPath={model}", $"--{section}:DrainSeconds=4"]);

        await service.SendSigtermAsync();
        await service.WaitForExitAsync().DefaultTimeout();

        Assert.Equal(0, service.ExitCode);
        var log = service.Output;
        Assert.Matches(@"SIGTERM received \(pid \d+\); draining, running calls get up to 4 s", log);
        Assert.Matches(@"Drain started: readiness NOT_SERVING, new calls refused with UNAVAILABLE \(DRAINING\); 0 calls in flight", log);
        Assert.Matches(@"Drained in \d+ ms", log);
        Assert.Matches(new Regex($@"{section.ToLowerInvariant()} stopped \d+ ms after the drain started"), log);
    }
}
