using System.Globalization;
using System.Text.RegularExpressions;
using MultiModal.Core.Hosting.Drain;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Unit.Core;

/// <summary>The Kubernetes grace period must outlast the service's own drain, or the kubelet's SIGKILL cuts it short.</summary>
public sealed partial class DrainManifestTests
{
    [Theory]
    [InlineData("clip", "Clip")]
    [InlineData("vision", "Vision")]
    [InlineData("diffusion", "Diffusion")]
    public void Deployment_TerminationGracePeriod_IsDrainSecondsPlusTheKubernetesMargin(string folder, string section)
    {
        var yaml = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "k8s", "base", folder, "deployment.yaml"));

        var grace = GracePeriod().Match(yaml);
        var drain = new Regex($@"name: {section}__DrainSeconds, value: ""(?<seconds>\d+)""").Match(yaml);

        Assert.True(grace.Success && drain.Success, $"k8s/base/{folder}/deployment.yaml sets no grace period or no {section}__DrainSeconds");
        Assert.Equal(
            int.Parse(drain.Groups["seconds"].Value, CultureInfo.InvariantCulture) + DrainOptions.KubernetesMarginSeconds,
            int.Parse(grace.Groups["seconds"].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"terminationGracePeriodSeconds: (?<seconds>\d+)")]
    private static partial Regex GracePeriod();
}
