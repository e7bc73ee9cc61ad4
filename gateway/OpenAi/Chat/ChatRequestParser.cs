using System.Text;
using System.Text.Json;
using MultiModal.Gateway.OpenAi.Errors;
using static MultiModal.Gateway.OpenAi.Http.RequestJson;

namespace MultiModal.Gateway.OpenAi.Chat;

/// <summary>
/// The one place chat requests are checked. Messages: optional system/developer messages first, then user and
/// assistant messages alternating, ending with a user message: the last is Describe's prompt, the earlier pairs its
/// history and the system text its system instruction, which the Vision service folds in with the model's chat template.
/// Text parts are joined by newlines; image_url parts (an object <c>{"url", "detail"}</c> or a plain string, the older
/// shape) only in the first user message, where the model's template puts images. Sampling:
/// max_completion_tokens or max_tokens, temperature (OpenAI's default 1; 0 = greedy), top_p, seed, stop (string or up
/// to 4 strings), n (1 only), stream and stream_options.include_usage.
/// </summary>
public static class ChatRequestParser
{
    public static ChatRequest Parse(JsonElement body)
    {
        var model = RequiredString(body, "model");
        var (prompt, images, history, system) = Messages(body);

        var n = Integer(body, "n");
        if (n is { } count && count != 1)
            throw OpenAiException.Invalid("n", $"Only n = 1 is supported; got {count}.", "unsupported_value");

        var maxParam = Get(body, "max_completion_tokens") is not null ? "max_completion_tokens" : "max_tokens";
        var maxTokens = Integer(body, maxParam) ?? 0;
        if (maxTokens < 1 && Get(body, maxParam) is not null)
            throw OpenAiException.Invalid(maxParam, $"'{maxParam}' must be at least 1; got {maxTokens}.");
        if (maxTokens > uint.MaxValue)
            throw OpenAiException.Invalid(maxParam, $"'{maxParam}' is too large: {maxTokens}.");

        var temperature = Number(body, "temperature") ?? 1.0;
        if (temperature is < 0 or > 2)
            throw OpenAiException.Invalid("temperature", $"'temperature' must be in [0, 2]; got {temperature}.");
        var topP = Number(body, "top_p") ?? 1.0;
        if (topP is <= 0 or > 1)
            throw OpenAiException.Invalid("top_p", $"'top_p' must be in (0, 1]; got {topP}.");
        var seed = Integer(body, "seed");
        if (seed < 0)
            throw OpenAiException.Invalid("seed", $"'seed' must be >= 0; got {seed}.");

        var stream = Bool(body, "stream") ?? false;
        var includeUsage = false;
        if (Get(body, "stream_options") is { } options)
        {
            if (options.ValueKind != JsonValueKind.Object)
                throw WrongType("stream_options", "an object");
            if (!stream)
                throw OpenAiException.Invalid("stream_options", "'stream_options' is only allowed when 'stream' is true.");
            includeUsage = Bool(options, "include_usage", "stream_options.include_usage") ?? false;
        }

        return new ChatRequest(model, images, prompt, (uint)maxTokens, maxParam,
            temperature == 0 ? null : (float)temperature, (float)topP, seed is { } s ? (ulong)s : null, Stop(body), stream, includeUsage)
        {
            History = history,
            System = system,
        };
    }

    private static (string Prompt, IReadOnlyList<ImageRef> Images, IReadOnlyList<(string, string)> History, string System) Messages(JsonElement body)
    {
        if (Get(body, "messages") is not { ValueKind: JsonValueKind.Array } messages)
            throw Get(body, "messages") is null
                ? OpenAiException.Invalid("messages", "'messages' is required.", "missing_required_parameter")
                : WrongType("messages", "an array");
        var system = new List<string>();
        var users = new List<string>();
        var assistants = new List<string>();
        var images = new List<ImageRef>();
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var path = $"messages[{index++}]";
            if (message.ValueKind != JsonValueKind.Object)
                throw WrongType(path, "an object");
            var role = RequiredString(message, "role", $"{path}.role");
            var expected = users.Count == assistants.Count ? "user" : "assistant";
            switch (role)
            {
                case "system" or "developer" when users.Count == 0:
                    system.Add(Content(message, path, images: null));
                    break;
                case "user" or "assistant" when role == expected:
                    (role == "user" ? users : assistants).Add(Content(message, path, role == "user" && users.Count == 0 ? images : null));
                    break;
                case "system" or "developer" or "user" or "assistant" or "tool" or "function":
                    throw OpenAiException.Invalid($"{path}.role",
                        $"Expected a '{expected}' message here: system messages first, then user and assistant messages alternating, ending with a user message (no tools).",
                        "unsupported_value");
                default:
                    throw OpenAiException.Invalid($"{path}.role", $"Unknown role '{role}'.");
            }
        }
        if (users.Count == 0 || users.Count != assistants.Count + 1)
            throw OpenAiException.Invalid("messages", "'messages' must end with a user message.");
        return (users[^1], images, [.. assistants.Select((a, i) => (users[i], a))], string.Join('\n', system));
    }

    // A message's text: a string, or text parts joined by newlines; image_url parts go to `images` (null: not allowed here).
    private static string Content(JsonElement message, string path, List<ImageRef>? images)
    {
        var content = $"{path}.content";
        var text = new StringBuilder();
        switch (Get(message, "content"))
        {
            case { ValueKind: JsonValueKind.String } s:
                text.Append(s.GetString());
                break;
            case { ValueKind: JsonValueKind.Array } parts:
                var i = 0;
                foreach (var part in parts.EnumerateArray())
                    Part(part, $"{content}[{i++}]", text, images);
                break;
            case null:
                throw OpenAiException.Invalid(content, $"'{content}' is required.", "missing_required_parameter");
            default:
                throw WrongType(content, "a string or an array of content parts");
        }
        return text.ToString();
    }

    private static void Part(JsonElement part, string path, StringBuilder text, List<ImageRef>? images)
    {
        if (part.ValueKind != JsonValueKind.Object)
            throw WrongType(path, "an object");
        switch (RequiredString(part, "type", $"{path}.type"))
        {
            case "text":
                if (text.Length > 0)
                    text.Append('\n');
                text.Append(RequiredString(part, "text", $"{path}.text"));
                break;
            case "image_url":
                var param = $"{path}.image_url";
                var url = Get(part, "image_url") switch
                {
                    { ValueKind: JsonValueKind.String } s => s.GetString()!,                    // the older plain-string shape
                    { ValueKind: JsonValueKind.Object } o => RequiredString(o, "url", $"{param}.url"),
                    null => throw OpenAiException.Invalid(param, $"'{param}' is required.", "missing_required_parameter"),
                    _ => throw WrongType(param, "an object {\"url\": ...} or a URL string"),
                };
                if (images is null)
                    throw OpenAiException.Invalid(param, "Images go in the first user message (where the model's chat template puts them).", "unsupported_value");
                images.Add(new ImageRef(url, param));
                break;
            case var other:
                throw OpenAiException.Invalid($"{path}.type", $"Content part type '{other}' is not supported (text, image_url).", "unsupported_value");
        }
    }

    private static IReadOnlyList<string> Stop(JsonElement body) => Get(body, "stop") switch
    {
        null => [],
        { ValueKind: JsonValueKind.String } s => [s.GetString()!],
        { ValueKind: JsonValueKind.Array } a when a.GetArrayLength() <= 4 && a.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String)
            => [.. a.EnumerateArray().Select(e => e.GetString()!)],
        _ => throw OpenAiException.Invalid("stop", "'stop' must be a string or an array of at most 4 strings."),
    };
}
