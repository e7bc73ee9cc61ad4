using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using MultiModal.Core.Hosting.Drain;
using Xunit;
using YamlDotNet.RepresentationModel;
using static MultiModal.Tests.Unit.K8s.RenderedOverlay;

namespace MultiModal.Tests.Unit.K8s;

/// <summary>
/// What rolling and draining pods depends on, tied to the code: the grace period the kubelet gives a pod covers the
/// process's own drain, every Deployment has a disruption budget, every setting a container reads resolves.
/// </summary>
public sealed class ManifestRolloutTests
{
    public static TheoryData<string, string> Deployments() => ManifestTieInTests.Deployments();

    [Theory]
    [MemberData(nameof(Deployments))]
    public void TerminationGrace_IsTheProcessDrainTimePlusTheMargin(string overlay, string name)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var deployment = rendered.Deployment(name);
        var env = rendered.Env(Containers(deployment).Single());
        var grace = int.Parse(Scalar(deployment, "spec", "template", "spec", "terminationGracePeriodSeconds")!);

        // Model services drain running calls for DrainSeconds after SIGTERM (set in their settings ConfigMap); the
        // gateway has no drain of its own: its host stops within HostOptions.ShutdownTimeout.
        int drain;
        if (name == "gateway")
            drain = (int)new HostOptions().ShutdownTimeout.TotalSeconds;
        else
        {
            var section = char.ToUpperInvariant(name[0]) + name[1..];
            Assert.Contains(env, e => e.Name == $"{section}__DrainSeconds");
            drain = new ConfigurationBuilder()
                .AddInMemoryCollection(env.Select(e => KeyValuePair.Create(e.Name.Replace("__", ":"), (string?)e.Value)))
                .Build().GetSection(section).Get<DrainOptions>()!.DrainSeconds;
        }

        Assert.Equal(drain + DrainOptions.KubernetesMarginSeconds, grace);
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("gpu")]
    public void DisruptionBudgets_EveryDeployment_HasExactlyOneSelectingItsPods(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var budgets = rendered.OfKind("PodDisruptionBudget").ToList();
        foreach (var deployment in rendered.OfKind("Deployment"))
        {
            var labels = Labels(Child(deployment, "spec", "template", "metadata", "labels"));
            var selecting = budgets.Where(b => Labels(Child(b, "spec", "selector", "matchLabels"))
                .All(kv => labels.TryGetValue(kv.Key, out var v) && v == kv.Value)).ToList();
            var name = Scalar(deployment, "metadata", "name");
            Assert.True(selecting.Count == 1, $"{overlay}: Deployment {name}: {selecting.Count} PodDisruptionBudgets select its pods");
            Assert.True(Child(selecting[0], "spec", "maxUnavailable") is not null || Child(selecting[0], "spec", "minAvailable") is not null,
                $"{overlay}: PodDisruptionBudget of {name} sets neither maxUnavailable nor minAvailable");
        }
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("gpu")]
    public void ConfigMaps_EveryReferenceResolves_AndEveryConfigMapIsRead(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var containers = rendered.OfKind("Deployment").Concat(rendered.OfKind("Job"))
            .SelectMany(w => Containers(w, init: true).Concat(Containers(w))).ToList();
        foreach (var container in containers)
            rendered.Env(container);                  // throws on a ConfigMap or key the overlay lacks

        var referenced = containers
            .SelectMany(c => Items(c, "envFrom").Select(s => Scalar(s, "configMapRef", "name"))
                .Concat(Items(c, "env").Select(e => Scalar(e, "valueFrom", "configMapKeyRef", "name"))))
            .Where(n => n is not null).ToHashSet();
        var maps = rendered.OfKind("ConfigMap").Select(m => Scalar(m, "metadata", "name")).ToList();
        Assert.NotEmpty(maps);
        Assert.All(maps, m => Assert.Contains(m, referenced));
    }

    private static Dictionary<string, string> Labels(YamlNode? node) =>
        node is YamlMappingNode map ? map.Children.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToString()) : [];
}
