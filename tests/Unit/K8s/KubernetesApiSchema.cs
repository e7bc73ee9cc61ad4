using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace MultiModal.Tests.Unit.K8s;

/// <summary>
/// The Kubernetes API schema of one pinned version, as KubernetesClient's models carry it (they are generated from
/// the Kubernetes OpenAPI spec, <see cref="Version"/>): which apiVersion/kind pairs exist, each object's fields and
/// their JSON types, and which fields are required (the models' constructor parameters without a default, the
/// spec's <c>required</c> lists). Checked strictly, like kubectl's server-side field validation: a field the type
/// lacks is an error, not ignored. README.md beside this file says why this source and not schema files.
/// </summary>
public static class KubernetesApiSchema
{
    public static string Version => GeneratedModelVersion.SwaggerVersion;

    // "apps/v1 Deployment" → V1Deployment, from the models' [KubernetesEntity] attributes.
    private static readonly Dictionary<string, Type> Kinds = typeof(V1Deployment).Assembly.GetTypes()
        .Select(t => (Type: t, Entity: t.GetCustomAttribute<KubernetesEntityAttribute>()))
        .Where(e => e.Entity is not null && typeof(IKubernetesObject).IsAssignableFrom(e.Type))
        .GroupBy(e => $"{(e.Entity!.Group is { Length: > 0 } g ? g + "/" : "")}{e.Entity!.ApiVersion} {e.Entity.Kind}")
        .ToDictionary(g => g.Key, g => g.First().Type);

    private static readonly ConcurrentDictionary<Type, (Dictionary<string, PropertyInfo> Fields, string[] Required)> Shapes = new();

    /// <summary>What is wrong with one object (none: it is valid), each as "path: problem".</summary>
    public static IReadOnlyList<string> Problems(YamlMappingNode yaml) => Problems(YamlToJson.Convert(yaml));

    public static IReadOnlyList<string> Problems(JsonNode? json)
    {
        var apiVersion = Text(json?["apiVersion"]);
        var kind = Text(json?["kind"]);
        if (!Kinds.TryGetValue($"{apiVersion} {kind}", out var type))
            return [$"apiVersion {apiVersion ?? "(none)"}, kind {kind ?? "(none)"}: no such kind in Kubernetes {Version}"];
        var problems = new List<string>();
        Check(json, type, "", problems);
        return problems;
    }

    private static void Check(JsonNode? node, Type type, string path, List<string> problems)
    {
        if (node is null)
            return;                                   // an explicit null is "unset"; required fields are checked by presence
        type = Nullable.GetUnderlyingType(type) ?? type;
        var json = node.GetValueKind();
        bool Expect(bool ok, string what)
        {
            if (!ok)
                problems.Add($"{Where(path)}: {Describe(json)} where Kubernetes {Version} wants {what}");
            return ok;
        }

        if (type == typeof(string) || type == typeof(DateTime) || type == typeof(byte[]))
            Expect(json is JsonValueKind.String, "a string");
        else if (type == typeof(bool))
            Expect(json is JsonValueKind.True or JsonValueKind.False, "a boolean");
        else if (type == typeof(int) || type == typeof(long))
            Expect(json is JsonValueKind.Number && IsInteger(node), "an integer");
        else if (type == typeof(double))
            Expect(json is JsonValueKind.Number, "a number");
        else if (type == typeof(IntstrIntOrString))
            Expect(json is JsonValueKind.String || (json is JsonValueKind.Number && IsInteger(node)), "an integer or a string");
        else if (type == typeof(ResourceQuantity))
            Expect(json is JsonValueKind.String or JsonValueKind.Number, "a quantity (string or number)");
        else if (type == typeof(object) || type == typeof(JsonElement))
            return;                                   // free-form (RawExtension and the like)
        else if (Generic(type, typeof(IDictionary<,>)) is { } map)
        {
            if (Expect(json is JsonValueKind.Object, "an object"))
                foreach (var (key, value) in node.AsObject())
                    Check(value, map[1], $"{path}.{key}", problems);
        }
        else if (Generic(type, typeof(IList<>)) is { } list)
        {
            if (Expect(json is JsonValueKind.Array, "a list"))
                foreach (var (item, i) in node.AsArray().Select((item, i) => (item, i)))
                    Check(item, list[0], $"{path}[{i}]", problems);
        }
        else if (Expect(json is JsonValueKind.Object, $"an object ({type.Name})"))
        {
            var (fields, required) = Shape(type);
            var obj = node.AsObject();
            foreach (var (key, value) in obj)
            {
                if (fields.TryGetValue(key, out var field))
                    Check(value, field.PropertyType, $"{path}.{key}", problems);
                else
                    problems.Add($"{Where($"{path}.{key}")}: unknown field (Kubernetes {Version} {type.Name} has no \"{key}\")");
            }
            foreach (var name in required.Where(r => !obj.ContainsKey(r)))
                problems.Add($"{Where($"{path}.{name}")}: required by Kubernetes {Version} {type.Name}, missing");
        }
    }

    private static (Dictionary<string, PropertyInfo> Fields, string[] Required) Shape(Type type) => Shapes.GetOrAdd(type, t =>
    {
        var fields = t.GetProperties()
            .Select(p => (Property: p, Json: p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name))
            .Where(p => p.Json is not null)
            .ToDictionary(p => p.Json!, p => p.Property);
        // The generated constructor takes the required fields first, without defaults.
        var constructor = t.GetConstructors().MaxBy(c => c.GetParameters().Length);
        var required = (constructor?.GetParameters() ?? []).Where(p => !p.HasDefaultValue)
            .Select(p => fields.First(f => string.Equals(f.Value.Name, p.Name, StringComparison.OrdinalIgnoreCase)).Key)
            .ToArray();
        return (fields, required);
    });

    private static Type[]? Generic(Type type, Type definition) =>
        (type.IsGenericType && type.GetGenericTypeDefinition() == definition ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == definition))
        ?.GetGenericArguments();

    private static bool IsInteger(JsonNode node) => node.AsValue().TryGetValue<long>(out _) || node.GetValue<double>() % 1 == 0;

    private static string? Text(JsonNode? node) => node?.GetValueKind() is JsonValueKind.String ? node.GetValue<string>() : null;

    private static string Where(string path) => path.TrimStart('.');

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        _ => kind.ToString(),
    };
}
