using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using MultiModal.Clip;
using MultiModal.Core.Hosting;
using MultiModal.Core.Hosting.Drain;
using MultiModal.Diffusion;
using MultiModal.Gateway;
using MultiModal.Gateway.FrontDoor;
using MultiModal.Gateway.Retry;
using MultiModal.Tests.Testing;
using MultiModal.Vision;
using Xunit;
using static MultiModal.Tests.Unit.K8s.RenderedOverlay;

namespace MultiModal.Tests.Unit.K8s;

/// <summary>
/// The rendered overlays against the code they deploy: a key renamed, a port moved or an image renamed on one side only
/// fails here instead of in a cluster. Both overlays, every Deployment.
/// </summary>
public sealed partial class ManifestTieInTests
{
    public static TheoryData<string, string> Deployments()
    {
        var data = new TheoryData<string, string>();
        foreach (var overlay in new[] { "dev", "gpu" })
            foreach (var name in new[] { "gateway", "clip", "vision", "diffusion" })
                data.Add(overlay, name);
        return data;
    }

    // What binds each configuration section in each process (the options classes and the sections they bind).
    private static readonly Dictionary<string, (string Section, Type Options)[]> Bound = new()
    {
        ["gateway"] = [(GatewayOptions.SectionName, typeof(GatewayOptions)), (GatewayOptions.SectionName, typeof(FrontDoorOptions)),
                       (RetryOptions.SectionName, typeof(RetryOptions))],
        ["clip"] = [(ClipOptions.Section, typeof(ClipOptions)), (ClipOptions.Section, typeof(DrainOptions))],
        ["vision"] = [(VisionOptions.Section, typeof(VisionOptions)), (VisionOptions.Section, typeof(DrainOptions))],
        ["diffusion"] = [(DiffusionOptions.Section, typeof(DiffusionOptions)), (DiffusionOptions.Section, typeof(DrainOptions))],
    };

    // Keys the hosts read outside options classes, and where: ASP.NET Core (ASPNETCORE_URLS, Kestrel:*), the gateway's
    // PORT convention (GatewayServiceCollectionExtensions.UseListenAddress), FleetTelemetry (Telemetry:PrometheusPort).
    private static readonly HashSet<string> HostKeys =
        ["ASPNETCORE_URLS", "PORT", "Kestrel__EndpointDefaults__Protocols", "Telemetry__PrometheusPort"];

    [Theory]
    [MemberData(nameof(Deployments))]
    public void Env_EveryVariable_IsAKeyTheProcessBindsWithAValidValue(string overlay, string name)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var container = Containers(rendered.Deployment(name)).Single();
        var env = rendered.Env(container);
        foreach (var (key, _) in env.Where(e => !HostKeys.Contains(e.Name)))
        {
            var configKey = key.Replace("__", ":");
            var owners = Bound[name].Where(b => configKey.StartsWith(b.Section + ":", StringComparison.OrdinalIgnoreCase)).ToList();
            Assert.True(owners.Count > 0, $"{overlay}/{name}: {key}: no section of it is bound by {name}");
            Assert.True(owners.Any(o => HasPath(o.Options, configKey[(o.Section.Length + 1)..].Split(':'))),
                $"{overlay}/{name}: {key}: no such property on {string.Join(" or ", owners.Select(o => o.Options.Name))}");
        }

        // Bound the way the host binds them (environment: "__" is ':'), every options class must validate.
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(env.Select(e => KeyValuePair.Create(e.Name.Replace("__", ":"), (string?)e.Value)))
            .Build();
        foreach (var (section, type) in Bound[name])
        {
            var options = configuration.GetSection(section).Get(type) ?? Activator.CreateInstance(type)!;
            var results = new List<ValidationResult>();
            Assert.True(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true),
                $"{overlay}/{name}: {type.Name}: {string.Join("; ", results.Select(r => r.ErrorMessage))}");
        }
    }

    [Theory]
    [MemberData(nameof(Deployments))]
    public void Ports_ContainerPortsProbesAndAnnotation_AreWhereTheProcessListens(string overlay, string name)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var deployment = rendered.Deployment(name);
        var container = Containers(deployment).Single();
        var env = rendered.Env(container).ToDictionary(e => e.Name, e => e.Value);
        var ports = Items(container, "ports").ToDictionary(p => Scalar(p, "name")!, p => int.Parse(Scalar(p, "containerPort")!));

        var listening = env.TryGetValue("ASPNETCORE_URLS", out var urls) ? new Uri(urls).Port : int.Parse(env["PORT"]);
        Assert.Equal(ports["grpc"], listening);
        if (name == "gateway")
            // the gateway arranges its own port (HTTP/1.1 for REST and h2c for gRPC, CleartextProtocolSniffer): a
            // Protocols override here would be ignored at best
            Assert.False(env.ContainsKey("Kestrel__EndpointDefaults__Protocols"));
        else
            Assert.Equal("Http2", env["Kestrel__EndpointDefaults__Protocols"]);    // gRPC without TLS is h2c only
        Assert.Equal(ports["metrics"], int.Parse(env["Telemetry__PrometheusPort"]));
        Assert.Equal(ports["metrics"].ToString(), Scalar(deployment, "spec", "template", "metadata", "annotations", "prometheus.io/port"));
        foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
        {
            if (Child(container, probe) is null)
                continue;
            Assert.Equal(ports["grpc"].ToString(), Scalar(container, probe, "grpc", "port"));
            Assert.Contains(Scalar(container, probe, "grpc", "service"), new[] { ServiceDefaults.LivenessService, ServiceDefaults.ReadinessService });
        }
        Assert.Equal(ServiceDefaults.ReadinessService, Scalar(container, "readinessProbe", "grpc", "service"));
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("gpu")]
    public void Services_PortsAndGatewayUpstreams_PointAtTheDeploymentsGrpcPorts(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var services = rendered.OfKind("Service").ToDictionary(s => Scalar(s, "metadata", "name")!);
        var gatewayEnv = rendered.Env(Containers(rendered.Deployment("gateway")).Single()).ToDictionary(e => e.Name, e => e.Value);
        foreach (var name in new[] { "gateway", "clip", "vision", "diffusion" })
        {
            var grpcPort = Items(Containers(rendered.Deployment(name)).Single(), "ports").Single(p => Scalar(p, "name") == "grpc");
            var servicePort = Items(services[name], "spec", "ports").Single(p => Scalar(p, "name") == "grpc");
            Assert.True(Scalar(servicePort, "targetPort") is "grpc" || Scalar(servicePort, "targetPort") == Scalar(grpcPort, "containerPort"),
                $"{overlay}: Service {name} targets {Scalar(servicePort, "targetPort")}, the container's grpc port is {Scalar(grpcPort, "containerPort")}");
            if (name == "gateway")
                continue;
            var upstream = new Uri(gatewayEnv[$"Gateway__Upstreams__{char.ToUpperInvariant(name[0])}{name[1..]}"]);
            Assert.Equal(name, upstream.Host);
            Assert.Equal(Scalar(servicePort, "port"), upstream.Port.ToString());
        }
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("gpu")]
    public void Images_EveryContainer_IsAnImageMakeImagesBuilds(string overlay)
    {
        var common = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "build", "images", "common.sh"));
        var repo = ImageRepo().Match(common).Groups["repo"].Value;
        var built = ImageList().Match(common).Groups["names"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["gateway", "clip", "vision", "diffusion"], built);
        foreach (var deployment in RenderedOverlay.Of(overlay).OfKind("Deployment"))
            foreach (var container in Containers(deployment, init: true).Concat(Containers(deployment)))
            {
                var image = Scalar(container, "image")!;
                var name = image.Split('@')[0].Split(':')[0];
                Assert.Contains(name, built.Select(b => $"{repo}/{b}"));
            }
    }

    [Theory]
    [InlineData("clip", "/app/MultiModal.ModelKit", "clip")]
    [InlineData("vision", "/app/MultiModal.ModelKit", "llava")]
    [InlineData("diffusion", "/app/MultiModal.ModelKit", "sd")]
    public void DevInitContainer_WritesTheBuiltInModelWhereTheServiceLoadsIt(string name, string entry, string kind)
    {
        var rendered = RenderedOverlay.Of("dev");
        var deployment = rendered.Deployment(name);
        var init = Containers(deployment, init: true).Single();
        var command = Items(init, "command").Count() is 0 ? [] : ((YamlDotNet.RepresentationModel.YamlSequenceNode)Child(init, "command")!).Children.Select(c => c.ToString()).ToArray();
        var modelPath = rendered.Env(Containers(deployment).Single()).Single(e => e.Name.EndsWith("__ModelPath")).Value;

        Assert.Equal([entry, kind, modelPath], command[..3]);
        Assert.Equal(Scalar(Containers(deployment).Single(), "image"), Scalar(init, "image"));
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("gpu")]
    public void NetworkPolicies_SelectorsAndNamedPorts_MatchThePods(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var pods = rendered.OfKind("Deployment").Concat(rendered.OfKind("Job")).Select(d => (
            Labels: ((YamlDotNet.RepresentationModel.YamlMappingNode)Child(d, "spec", "template", "metadata", "labels")!).Children
                .ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToString()),
            Ports: Containers(d).SelectMany(c => Items(c, "ports")).Select(p => Scalar(p, "name")).ToHashSet())).ToList();
        var policies = rendered.OfKind("NetworkPolicy").ToList();
        Assert.NotEmpty(policies);

        bool Selects(YamlDotNet.RepresentationModel.YamlNode? selector, Dictionary<string, string> labels) =>
            Child(selector!, "matchLabels") is not YamlDotNet.RepresentationModel.YamlMappingNode match
            || match.Children.All(kv => labels.TryGetValue(kv.Key.ToString(), out var v) && v == kv.Value.ToString());

        foreach (var policy in policies)
        {
            var name = Scalar(policy, "metadata", "name");
            var selected = pods.Where(p => Selects(Child(policy, "spec", "podSelector"), p.Labels)).ToList();
            Assert.True(selected.Count > 0, $"{overlay}: NetworkPolicy {name} selects no pod");
            foreach (var rule in Items(policy, "spec", "ingress"))
                foreach (var port in Items(rule, "ports").Select(p => Scalar(p, "port")).Where(p => !int.TryParse(p, out _)))
                    Assert.All(selected, p => Assert.Contains(port, p.Ports));
            foreach (var rule in Items(policy, "spec", "egress"))
            {
                var peers = Items(rule, "to").Where(t => Child(t, "podSelector") is not null)
                    .SelectMany(t => pods.Where(p => Selects(Child(t, "podSelector"), p.Labels))).ToList();
                foreach (var port in Items(rule, "ports").Select(p => Scalar(p, "port")).Where(p => !int.TryParse(p, out _)))
                {
                    Assert.True(peers.Count > 0, $"{overlay}: NetworkPolicy {name}: egress to named port {port} of no pod");
                    Assert.All(peers, p => Assert.Contains(port, p.Ports));
                }
            }
        }
        // The gateway may reach every model service, and nothing else may.
        var backendPolicy = policies.Single(p => Scalar(p, "metadata", "name") == "backends-from-gateway-only");
        var grpcFrom = Items(backendPolicy, "spec", "ingress").Single(r => Items(r, "ports").Any(p => Scalar(p, "port") == "grpc"));
        Assert.Equal("gateway", Scalar(Items(grpcFrom, "from").Single(), "podSelector", "matchLabels", "app.kubernetes.io/name"));
    }

    [Theory]
    [InlineData("clip")]
    [InlineData("vision")]
    [InlineData("diffusion")]
    public void GpuOverlay_WeightsFetchedByTheJobAndVerifiedWhereTheServiceLoadsThem(string name)
    {
        var rendered = RenderedOverlay.Of("gpu");
        var deployment = rendered.Deployment(name);
        var modelPath = rendered.Env(Containers(deployment).Single()).Single(e => e.Name.EndsWith("__ModelPath")).Value;
        var verify = ModelKitFetch(Containers(deployment, init: true).Single(c => Scalar(c, "name") == "verify-model"));
        var job = rendered.OfKind("Job").Single(j => Scalar(j, "metadata", "name") == "fetch-models");
        var fetcher = Containers(job).Single(c => Scalar(c, "name") == name);
        var fetch = ModelKitFetch(fetcher);

        Assert.True(verify.Offline);
        Assert.False(fetch.Offline);
        Assert.Equal(modelPath, verify.TargetDir);
        Assert.Equal((fetch.Repo, fetch.TargetDir), (verify.Repo, verify.TargetDir));
        Assert.NotEmpty(fetch.Patterns);

        // --token-file names a file of the optional hub-token Secret's mount (absent Secret: no token, public repos).
        var mount = Items(fetcher, "volumeMounts").Single(m => fetch.TokenFile!.StartsWith(Scalar(m, "mountPath") + "/"));
        var volume = Items(job, "spec", "template", "spec", "volumes").Single(v => Scalar(v, "name") == Scalar(mount, "name"));
        Assert.Equal(("hub-token", "true"), (Scalar(volume, "secret", "secretName"), Scalar(volume, "secret", "optional")));
        Assert.Equal("token", Path.GetFileName(fetch.TokenFile));
    }

    // The container's command as ModelKit parses it (MultiModal.ModelKit fetch <repo> --to … [--offline]).
    private static MultiModal.ModelKit.Fetch.FetchRequest ModelKitFetch(YamlDotNet.RepresentationModel.YamlMappingNode container)
    {
        var command = ((YamlDotNet.RepresentationModel.YamlSequenceNode)Child(container, "command")!).Children.Select(c => c.ToString()).ToArray();
        Assert.Equal("/app/MultiModal.ModelKit", command[0]);
        return MultiModal.ModelKit.Fetch.FetchCommand.Parse(command[1..]) ?? throw new Xunit.Sdk.XunitException($"ModelKit rejects: {string.Join(' ', command)}");
    }

    private static bool HasPath(Type type, string[] path)
    {
        if (path.Length == 0)
            return true;
        var property = type.GetProperty(path[0], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property is null)
            return false;
        var next = property.PropertyType;
        if (next.IsGenericType && next.GetGenericTypeDefinition() is var g && (g == typeof(Dictionary<,>) || g == typeof(IDictionary<,>) || g == typeof(IReadOnlyDictionary<,>)))
            return path.Length == 2 || HasPath(next.GetGenericArguments()[1], path[2..]);
        return path.Length == 1 || HasPath(next, path[1..]);
    }

    [GeneratedRegex(@"IMAGE_REPO=\$\{IMAGE_REPO:-(?<repo>[^}]+)\}")]
    private static partial Regex ImageRepo();

    [GeneratedRegex(@"^IMAGES=\((?<names>[^)]*)\)", RegexOptions.Multiline)]
    private static partial Regex ImageList();
}
