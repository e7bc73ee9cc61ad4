using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using MultiModal.Core.Hosting.Drain;
using MultiModal.Tests.Testing;
using Xunit;
using YamlDotNet.RepresentationModel;
using static MultiModal.Tests.Unit.K8s.RenderedOverlay;

namespace MultiModal.Tests.Unit.K8s;

/// <summary>
/// What rolling and draining pods depends on, tied to the code: the grace period the kubelet gives a pod covers the
/// process's own drain, every Deployment has a disruption budget, every setting a container reads resolves.
/// </summary>
public sealed partial class ManifestRolloutTests
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
            Assert.True(env.Any(e => e.Name == $"{section}__DrainSeconds"),
                $"{overlay}/{name}: {section}__DrainSeconds is not set (its settings ConfigMap), so the grace period is not tied to it");
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

    [Fact]
    public void GpuOverlay_EveryImage_IsPinnedByDigest()
    {
        var rendered = RenderedOverlay.Of("gpu");
        var images = rendered.OfKind("Deployment").Concat(rendered.OfKind("Job"))
            .SelectMany(w => Containers(w, init: true).Concat(Containers(w))).Select(c => Scalar(c, "image")!).ToList();

        Assert.NotEmpty(images);
        Assert.All(images, image => Assert.Matches(ByDigest(), image));
    }

    [Fact]
    public void PinImages_PushedDigests_WrittenIntoTheOverlaysImagesList()
    {
        var work = Directory.CreateTempSubdirectory("pin-images-").FullName;
        try
        {
            var overlay = Path.Combine(work, "kustomization.yaml");
            File.Copy(Path.Combine(TestPaths.RepoRoot, "k8s", "overlays", "gpu", "kustomization.yaml"), overlay);
            Directory.CreateDirectory(Path.Combine(work, "digests"));
            var digests = new[] { "gateway", "clip" }.ToDictionary(n => n, n => "sha256:" + Convert.ToHexStringLower(
                System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(n))));
            foreach (var (name, digest) in digests)
                File.WriteAllText(Path.Combine(work, "digests", name), digest + "\n");   // as buildah push --digestfile writes it

            var (code, output) = PinImages(work, overlay, "gateway", "clip");

            Assert.True(code == 0, output);
            var lines = File.ReadAllLines(overlay);
            foreach (var (name, digest) in digests)
                Assert.Contains($"  - {{ name: ghcr.io/multimodal-services/{name}, digest: {digest} }}   # pushed (digests/{name})", lines);
            File.WriteAllText(Path.Combine(work, "digests", "clip"), "latest");
            Assert.Equal(1, PinImages(work, overlay, "clip").Code);                    // not a digest: refused
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static (int Code, string Output) PinImages(string imagesDir, string overlay, params string[] names)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(TestPaths.RepoRoot, "build", "images", "pin-images.sh"), .. names])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["IMAGES_DIR"] = imagesDir;
        start.Environment["PIN_OVERLAY"] = overlay;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result + errors);
    }

    [GeneratedRegex(@"^ghcr\.io/multimodal-services/[a-z]+@sha256:[0-9a-f]{64}$")]
    private static partial Regex ByDigest();

    private static Dictionary<string, string> Labels(YamlNode? node) =>
        node is YamlMappingNode map ? map.Children.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToString()) : [];
}
