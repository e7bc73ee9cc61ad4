using System.Text.Json;

namespace MultiModal.Models.Llava.Generation;

/// <summary>
/// What a model folder's <c>generation_config.json</c> says: its end-of-sequence ids (an int or a list) and the decoding
/// defaults it overrides (do_sample, temperature, top_k, top_p, repetition_penalty, max_new_tokens).
/// </summary>
public sealed record GenerationConfigFile(IReadOnlyList<int> EosTokenIds, GenerationOptions Defaults)
{
    /// <summary>Reads <c>generation_config.json</c> in <paramref name="folder"/>; without one, <paramref name="fallbackEosTokenId"/> and the defaults.</summary>
    public static GenerationConfigFile Load(string folder, int fallbackEosTokenId)
    {
        var path = Path.Combine(folder, "generation_config.json");
        if (!File.Exists(path)) return new([fallbackEosTokenId], new GenerationOptions());
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var root = json.RootElement;
        var eos = root.TryGetProperty("eos_token_id", out var e) ? e.ValueKind switch
        {
            JsonValueKind.Number => [e.GetInt32()],
            JsonValueKind.Array => e.EnumerateArray().Select(x => x.GetInt32()).ToList(),
            _ => new List<int> { fallbackEosTokenId },
        } : [fallbackEosTokenId];
        var d = new GenerationOptions();
        d = d with
        {
            DoSample = Get(root, "do_sample", x => x.GetBoolean(), d.DoSample),
            Temperature = Get(root, "temperature", x => x.GetDouble(), d.Temperature),
            TopK = Get(root, "top_k", x => x.GetInt32(), d.TopK),
            TopP = Get(root, "top_p", x => x.GetDouble(), d.TopP),
            RepetitionPenalty = Get(root, "repetition_penalty", x => x.GetDouble(), d.RepetitionPenalty),
            MaxNewTokens = Get(root, "max_new_tokens", x => x.GetInt32(), d.MaxNewTokens),
        };
        return new(eos, d);
    }

    private static T Get<T>(JsonElement root, string name, Func<JsonElement, T> read, T fallback) =>
        root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? read(value) : fallback;
}
