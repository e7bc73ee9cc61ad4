using MultiModal.Models.Runtime;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Unit.Runtime;

/// <summary>
/// Every place that starts a model service sets the same <c>GLIBC_TUNABLES</c> (<see cref="TorchRuntime.ServiceMallocTunables"/>):
/// the Containerfiles as their image's environment, run-fleet.sh and the Makefile's run-* targets unless the caller set one.
/// </summary>
public sealed class ServiceMallocTunablesTests
{
    [Theory]
    [InlineData("services/Clip/Containerfile", "ENV GLIBC_TUNABLES={0}")]
    [InlineData("services/Vision/Containerfile", "ENV GLIBC_TUNABLES={0}")]
    [InlineData("services/Diffusion/Containerfile", "ENV GLIBC_TUNABLES={0}")]
    [InlineData("build/run-fleet.sh", "GLIBC_TUNABLES=\"${{GLIBC_TUNABLES:-{0}}}\"")]
    [InlineData("Makefile", "GLIBC_TUNABLES=\"$${{GLIBC_TUNABLES:-{0}}}\"")]
    public void StartingPlace_SetsTheRuntimesTunables(string relativePath, string format)
    {
        var text = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, relativePath));

        Assert.Contains(string.Format(format, TorchRuntime.ServiceMallocTunables), text);
    }
}
