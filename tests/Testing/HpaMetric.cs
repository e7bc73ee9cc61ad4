using System.Text.RegularExpressions;

namespace MultiModal.Tests.Testing;

/// <summary>
/// The Pods metric an autoscaler manifest (k8s/…/hpa-*.yaml) scales on: its name and its label selector, read from
/// the flow-style lines the manifests use (<c>metric: { name: …, selector: { matchLabels: { key: value } } }</c>).
/// </summary>
public sealed partial record HpaMetric(string Name, IReadOnlyDictionary<string, string> MatchLabels)
{
    public static HpaMetric Read(string relativePath)
    {
        var yaml = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, relativePath));
        var metrics = MetricLine().Matches(yaml);
        if (metrics.Count != 1)
            throw new InvalidDataException($"{relativePath}: expected one 'metric: {{ name: … }}' line, found {metrics.Count}");
        var line = metrics[0];
        var labels = LabelPair().Matches(line.Groups["labels"].Value).ToDictionary(m => m.Groups["key"].Value, m => m.Groups["value"].Value);
        return new HpaMetric(line.Groups["name"].Value, labels);
    }

    /// <summary>
    /// A regex that matches a sample line of this metric in a Prometheus scrape, with every selector label (any order,
    /// any other labels).
    /// </summary>
    public string SamplePattern() =>
        $@"^{Regex.Escape(Name)}\{{" + string.Concat(MatchLabels.Select(kv => $@"(?=[^}}]*\b{Regex.Escape(kv.Key)}=""{Regex.Escape(kv.Value)}"")")) + @"[^}]*\} \S+";

    [GeneratedRegex(@"^\s*metric:\s*\{\s*name:\s*(?<name>[A-Za-z_:][A-Za-z0-9_:]*)\s*(?:,\s*selector:\s*\{\s*matchLabels:\s*\{(?<labels>[^}]*)\}\s*\}\s*)?\}", RegexOptions.Multiline)]
    private static partial Regex MetricLine();

    [GeneratedRegex(@"(?<key>[A-Za-z_][A-Za-z0-9_]*)\s*:\s*""?(?<value>[^,""}\s]+)""?")]
    private static partial Regex LabelPair();
}
