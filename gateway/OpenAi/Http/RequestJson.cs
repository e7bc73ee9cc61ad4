using System.Text.Json;
using MultiModal.Gateway.OpenAi.Errors;

namespace MultiModal.Gateway.OpenAi.Http;

/// <summary>
/// Reads a JSON request body field by field, so that a wrong type or value is a 400 whose <c>param</c> names the field
/// as OpenAI does (<c>messages[0].content</c>). Unknown fields are ignored, as OpenAI-compatible servers do.
/// </summary>
public static class RequestJson
{
    public static async Task<JsonElement> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentType is not { } type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            throw new OpenAiException(StatusCodes.Status400BadRequest, "The request body must be JSON (Content-Type: application/json).", null, "invalid_content_type");
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new OpenAiException(StatusCodes.Status400BadRequest, "The request body must be a JSON object.", null, "invalid_json");
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new OpenAiException(StatusCodes.Status400BadRequest, $"The request body is not valid JSON: {e.Message}", null, "invalid_json");
        }
    }

    public static JsonElement? Get(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public static string RequiredString(JsonElement obj, string name, string? path = null) =>
        String(obj, name, path) ?? throw OpenAiException.Invalid(path ?? name, $"'{path ?? name}' is required.", "missing_required_parameter");

    public static string? String(JsonElement obj, string name, string? path = null) => Get(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        _ => throw WrongType(path ?? name, "a string"),
    };

    public static double? Number(JsonElement obj, string name, string? path = null) => Get(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v => v.GetDouble(),
        _ => throw WrongType(path ?? name, "a number"),
    };

    public static long? Integer(JsonElement obj, string name, string? path = null) => Get(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt64(out var i) => i,
        _ => throw WrongType(path ?? name, "an integer"),
    };

    public static bool? Bool(JsonElement obj, string name, string? path = null) => Get(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw WrongType(path ?? name, "a boolean"),
    };

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>], or null when absent.</summary>
    public static long? IntegerIn(JsonElement obj, string name, long min, long max)
    {
        var value = Integer(obj, name);
        if (value is { } v && (v < min || v > max))
            throw OpenAiException.Invalid(name, $"'{name}' must be in [{min}, {max}]; got {v}.");
        return value;
    }

    public static OpenAiException WrongType(string path, string expected) =>
        OpenAiException.Invalid(path, $"'{path}' must be {expected}.", "invalid_type");
}
