using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MultiModal.Tests.Unit.K8s;

/// <summary>
/// YAML as kubectl turns it into the JSON the API server decodes (sigs.k8s.io/yaml, YAML 1.1 resolution): a plain
/// scalar is null, a boolean (true, yes, on…), an integer or a float when it reads as one, else a string; a quoted
/// scalar (or one tagged <c>!!str</c>) is always a string. So <c>value: 20</c> is a number and <c>value: "20"</c> a string.
/// </summary>
public static class YamlToJson
{
    private static readonly HashSet<string> Nulls = ["", "~", "null", "Null", "NULL"];
    private static readonly HashSet<string> Trues = ["true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"];
    private static readonly HashSet<string> Falses = ["false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"];

    public static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv =>
            KeyValuePair.Create(((YamlScalarNode)kv.Key).Value ?? "", Convert(kv.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(Convert).ToArray()),
        YamlScalarNode scalar when scalar.Style is ScalarStyle.Plain && scalar.Tag.IsEmpty => Resolve(scalar.Value ?? ""),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value ?? ""),
        _ => throw new NotSupportedException($"YAML node {node.NodeType} at {node.Start}"),
    };

    private static JsonNode? Resolve(string text) =>
        Nulls.Contains(text) ? null
        : Trues.Contains(text) ? JsonValue.Create(true)
        : Falses.Contains(text) ? JsonValue.Create(false)
        : long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer) ? JsonValue.Create(integer)
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && char.IsAsciiDigit(text[^1]) ? JsonValue.Create(real)
        : JsonValue.Create(text);
}
