using MultiModal.Tests.Testing;
using Xunit;
using YamlDotNet.RepresentationModel;
using static MultiModal.Tests.Unit.K8s.RenderedOverlay;

namespace MultiModal.Tests.Unit.K8s;

/// <summary>
/// Every object both overlays render is valid for the pinned Kubernetes API (<see cref="KubernetesApiSchema"/>):
/// a known kind, no unknown field, every value of its field's type, every required field present.
/// </summary>
public sealed class KubernetesApiSchemaTests
{
    // A valid Deployment; each case below breaks one thing in it, the way a hand edit would.
    private const string Deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: { name: clip }
        spec:
          selector: { matchLabels: { app: clip } }
          template:
            metadata: { labels: { app: clip } }
            spec:
              containers:
                - name: clip
                  image: ghcr.io/multimodal-services/clip:0.1.0
                  ports: [{ name: grpc, containerPort: 5101 }]
                  env: [{ name: Clip__DrainSeconds, value: "20" }]
                  securityContext: { readOnlyRootFilesystem: true }
                  resources: { requests: { cpu: "2", memory: 6Gi } }
        """;

    [Theory]
    [InlineData("dev")]
    [InlineData("gpu")]
    public void Overlay_EveryObject_IsValidForThePinnedKubernetesApi(string overlay)
    {
        var objects = RenderedOverlay.Of(overlay).Objects;
        var problems = objects
            .SelectMany(o => KubernetesApiSchema.Problems(o).Select(p => $"{Scalar(o, "kind")} {Scalar(o, "metadata", "name")}: {p}"))
            .ToList();

        Assert.True(problems.Count == 0, $"{overlay}: {string.Join("\n", problems)}");
        Assert.Contains(objects, o => Scalar(o, "kind") == "Deployment");
    }

    [Fact]
    public void Schema_TheValidDeployment_HasNoProblems() =>
        Assert.Empty(KubernetesApiSchema.Problems(Parse(Deployment)));

    [Theory]
    [InlineData("containerPort: 5101", "containerPort: \"5101\"",
        "spec.template.spec.containers[0].ports[0].containerPort: a string where Kubernetes v1.33.0 wants an integer")]
    [InlineData("value: \"20\"", "value: 20",
        "spec.template.spec.containers[0].env[0].value: a number where Kubernetes v1.33.0 wants a string")]
    [InlineData("readOnlyRootFilesystem", "readOnlyRootFileSystem",
        "spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem: unknown field (Kubernetes v1.33.0 V1SecurityContext has no \"readOnlyRootFileSystem\")")]
    [InlineData("- name: clip\n          image:", "- image:",
        "spec.template.spec.containers[0].name: required by Kubernetes v1.33.0 V1Container, missing")]
    [InlineData("metadata: { labels: { app: clip } }", "metadata: { label: { app: clip } }",
        "spec.template.metadata.label: unknown field (Kubernetes v1.33.0 V1ObjectMeta has no \"label\")")]
    [InlineData("kind: Deployment", "kind: Deploymnet", "apiVersion apps/v1, kind Deploymnet: no such kind in Kubernetes v1.33.0")]
    [InlineData("apiVersion: apps/v1", "apiVersion: extensions/v1beta1", "apiVersion extensions/v1beta1, kind Deployment: no such kind in Kubernetes v1.33.0")]
    public void Schema_OneFieldWrong_IsReportedAtItsPath(string from, string to, string expected)
    {
        Assert.Contains(from, Deployment);
        var problems = KubernetesApiSchema.Problems(Parse(Deployment.Replace(from, to)));

        Assert.Equal([expected], problems);
    }

    [Fact]
    public void Schema_HpaWithoutMaxReplicasAndAWrongTarget_BothReported()
    {
        var hpa = RenderedOverlay.Of("gpu").OfKind("HorizontalPodAutoscaler").First();
        var json = YamlToJson.Convert(hpa)!;
        json["spec"]!.AsObject().Remove("maxReplicas");
        json["spec"]!["minReplicas"] = "2";

        var problems = KubernetesApiSchema.Problems(json);

        Assert.Equal(["spec.minReplicas: a string where Kubernetes v1.33.0 wants an integer",
                      "spec.maxReplicas: required by Kubernetes v1.33.0 V2HorizontalPodAutoscalerSpec, missing"], problems);
    }

    [Fact]
    public void Schema_PinnedVersion_IsTheOneTheReadmeNames()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "Unit", "K8s", "README.md"));
        Assert.Equal("v1.33.0", KubernetesApiSchema.Version);
        Assert.Contains($"Kubernetes {KubernetesApiSchema.Version}", readme);
    }

    private static YamlMappingNode Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }
}
