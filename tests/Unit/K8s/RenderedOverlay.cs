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

    /// <summary>
    /// The container's environment as the kubelet builds it: the keys of each <c>envFrom</c> ConfigMap (with its
    /// prefix), then <c>env</c>, whose entries win; <c>valueFrom.configMapKeyRef</c> read from the rendered ConfigMap.
    /// A reference to a ConfigMap or key this overlay does not render throws (unless marked optional).
    /// </summary>
    public IReadOnlyList<(string Name, string Value)> Env(YamlMappingNode container)
    {
        var env = new Dictionary<string, string>();
        foreach (var source in Items(container, "envFrom"))
        {
            if (Child(source, "configMapRef") is not { } reference)
                throw new NotSupportedException($"{Name}: envFrom other than configMapRef");
            if (ConfigMapData(Scalar(reference, "name")!, Scalar(reference, "optional") == "true") is { } data)
                foreach (var (key, value) in data)
                    env[(Scalar(source, "prefix") ?? "") + key] = value;
        }
        foreach (var entry in Items(container, "env"))
        {
            var name = Scalar(entry, "name")!;
            if (Child(entry, "valueFrom", "configMapKeyRef") is { } keyRef)
            {
                var optional = Scalar(keyRef, "optional") == "true";
                var key = Scalar(keyRef, "key")!;
                var data = ConfigMapData(Scalar(keyRef, "name")!, optional);
                if (data is not null && data.TryGetValue(key, out var value))
                    env[name] = value;
                else if (!optional)
                    throw new InvalidOperationException($"{Name}: env {name}: ConfigMap {Scalar(keyRef, "name")} has no key {key}");
            }
            else
                env[name] = Scalar(entry, "value") ?? "";
        }
        return env.Select(kv => (kv.Key, kv.Value)).ToList();
    }

    /// <summary>A rendered ConfigMap's data by the name a reference uses (kustomize has already added the hash suffix).</summary>
    public IReadOnlyDictionary<string, string>? ConfigMapData(string name, bool optional = false)
    {
        var map = OfKind("ConfigMap").SingleOrDefault(c => Scalar(c, "metadata", "name") == name);
        if (map is null)
            return optional ? null : throw new InvalidOperationException($"{Name}: no ConfigMap {name} (referenced by a container)");
        return Child(map, "data") is YamlMappingNode data
            ? data.Children.ToDictionary(kv => kv.Key.ToString(), kv => ((YamlScalarNode)kv.Value).Value ?? "")
            : new Dictionary<string, string>();
    }

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
