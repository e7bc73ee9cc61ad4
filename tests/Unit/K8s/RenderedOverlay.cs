using System.Diagnostics;
using MultiModal.Tests.Testing;
using YamlDotNet.RepresentationModel;

namespace MultiModal.Tests.Unit.K8s;

/// <summary>The objects <c>kubectl kustomize k8s/overlays/&lt;name&gt;</c> renders, as YAML mapping nodes.</summary>
public sealed class RenderedOverlay
{
    private static readonly Dictionary<string, RenderedOverlay> Cache = new();

    private RenderedOverlay(string name, IReadOnlyList<YamlMappingNode> objects) => (Name, Objects) = (name, objects);

    public string Name { get; }
    public IReadOnlyList<YamlMappingNode> Objects { get; }

    public static RenderedOverlay Of(string overlay)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(overlay, out var cached))
                return cached;
            var start = new ProcessStartInfo("kubectl", ["kustomize", Path.Combine(TestPaths.RepoRoot, "k8s", "overlays", overlay)])
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var kubectl = Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start");
            var yaml = kubectl.StandardOutput.ReadToEnd();
            var errors = kubectl.StandardError.ReadToEnd();
            kubectl.WaitForExit();
            if (kubectl.ExitCode != 0)
                throw new InvalidOperationException($"kubectl kustomize k8s/overlays/{overlay}: {errors}");
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            return Cache[overlay] = new RenderedOverlay(overlay, stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList());
        }
    }

    public IEnumerable<YamlMappingNode> OfKind(string kind) => Objects.Where(o => Scalar(o, "kind") == kind);

    public YamlMappingNode Deployment(string name) => OfKind("Deployment").Single(d => Scalar(d, "metadata", "name") == name);

    /// <summary>The pod template's containers (init containers first when asked).</summary>
    public static IEnumerable<YamlMappingNode> Containers(YamlMappingNode deployment, bool init = false) =>
        Child(deployment, "spec", "template", "spec") is YamlMappingNode pod
        && pod.Children.TryGetValue(init ? "initContainers" : "containers", out var list)
            ? ((YamlSequenceNode)list).Children.Cast<YamlMappingNode>()
            : [];

    public static IReadOnlyList<(string Name, string Value)> Env(YamlMappingNode container) =>
        container.Children.TryGetValue("env", out var env)
            ? ((YamlSequenceNode)env).Children.Cast<YamlMappingNode>()
                .Select(e => (Scalar(e, "name")!, Scalar(e, "value") ?? "")).ToList()
            : [];

    public static YamlNode? Child(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(key, out var next))
                return null;
            node = next;
        }
        return node;
    }

    public static string? Scalar(YamlNode node, params string[] path) => (Child(node, path) as YamlScalarNode)?.Value;

    public static IEnumerable<YamlMappingNode> Items(YamlNode node, params string[] path) =>
        Child(node, path) is YamlSequenceNode list ? list.Children.Cast<YamlMappingNode>() : [];
}
