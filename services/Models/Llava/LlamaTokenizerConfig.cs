using System.Text.Json;

namespace MultiModal.Models.Llava;

/// <summary>One entry of transformers' added-token table (<c>added_tokens_decoder</c> / <c>added_tokens.json</c>).</summary>
public sealed record AddedTokenEntry(int Id, string Content, bool LStrip = false, bool RStrip = false, bool SingleWord = false);

/// <summary>
/// What transformers 4.37's slow <c>LlamaTokenizer</c> reads from a model folder: <c>tokenizer_config.json</c>, with
/// <c>special_tokens_map.json</c> and <c>added_tokens.json</c> as fallbacks. Defaults are LlamaTokenizer's:
/// add_bos_token true, add_eos_token false, clean_up_tokenization_spaces false, and <c>legacy</c> true when the key is
/// absent (4.37 warns and keeps the legacy behaviour).
/// </summary>
public sealed record LlamaTokenizerConfig
{
    public bool Legacy { get; init; } = true;
    public bool AddBosToken { get; init; } = true;
    public bool AddEosToken { get; init; }
    public bool CleanUpTokenizationSpaces { get; init; }
    public string BosToken { get; init; } = "<s>";
    public string EosToken { get; init; } = "</s>";
    public string UnkToken { get; init; } = "<unk>";
    public string? PadToken { get; init; }
    public IReadOnlyList<string> AdditionalSpecialTokens { get; init; } = [];

    /// <summary>Added tokens (ids of the sentencepiece control pieces and appended ids such as <c>&lt;image&gt;</c>).</summary>
    public IReadOnlyList<AddedTokenEntry> AddedTokens { get; init; } = [];

    /// <summary>transformers' <c>all_special_tokens</c>: bos, eos, unk, pad and the additional special tokens.</summary>
    public IEnumerable<string> AllSpecialTokens =>
        new[] { BosToken, EosToken, UnkToken, PadToken }.OfType<string>().Concat(AdditionalSpecialTokens).Distinct();

    /// <summary>Reads the tokenizer files of a llava-hf / Llama folder; absent files leave the defaults.</summary>
    public static LlamaTokenizerConfig Load(string folder)
    {
        var config = new LlamaTokenizerConfig();
        var specialMap = ReadJson(Path.Combine(folder, "special_tokens_map.json"));
        var tokenizerConfig = ReadJson(Path.Combine(folder, "tokenizer_config.json"));

        // special_tokens_map.json first, tokenizer_config.json overrides (transformers merges them the same way).
        foreach (var source in new[] { specialMap, tokenizerConfig })
        {
            if (source is not { } root) continue;
            config = config with
            {
                BosToken = TokenContent(root, "bos_token") ?? config.BosToken,
                EosToken = TokenContent(root, "eos_token") ?? config.EosToken,
                UnkToken = TokenContent(root, "unk_token") ?? config.UnkToken,
                PadToken = TokenContent(root, "pad_token") ?? config.PadToken,
                AdditionalSpecialTokens = root.TryGetProperty("additional_special_tokens", out var extra) && extra.ValueKind == JsonValueKind.Array
                    ? extra.EnumerateArray().Select(e => TokenContent(e)).OfType<string>().ToList()
                    : config.AdditionalSpecialTokens,
            };
        }

        if (tokenizerConfig is { } tc)
        {
            config = config with
            {
                Legacy = Bool(tc, "legacy") ?? config.Legacy,
                AddBosToken = Bool(tc, "add_bos_token") ?? config.AddBosToken,
                AddEosToken = Bool(tc, "add_eos_token") ?? config.AddEosToken,
                CleanUpTokenizationSpaces = Bool(tc, "clean_up_tokenization_spaces") ?? config.CleanUpTokenizationSpaces,
            };
        }

        var added = new Dictionary<int, AddedTokenEntry>();
        if (tokenizerConfig is { } cfg && cfg.TryGetProperty("added_tokens_decoder", out var decoder))
        {
            foreach (var entry in decoder.EnumerateObject())
            {
                var id = int.Parse(entry.Name, System.Globalization.CultureInfo.InvariantCulture);
                added[id] = new AddedTokenEntry(id, entry.Value.GetProperty("content").GetString()!,
                    Bool(entry.Value, "lstrip") ?? false, Bool(entry.Value, "rstrip") ?? false, Bool(entry.Value, "single_word") ?? false);
            }
        }
        // Older folders list appended tokens only in added_tokens.json.
        if (ReadJson(Path.Combine(folder, "added_tokens.json")) is { } addedJson)
        {
            foreach (var entry in addedJson.EnumerateObject())
            {
                var id = entry.Value.GetInt32();
                added.TryAdd(id, new AddedTokenEntry(id, entry.Name));
            }
        }
        return config with { AddedTokens = added.Values.OrderBy(a => a.Id).ToList() };
    }

    private static JsonElement? ReadJson(string path) =>
        File.Exists(path) ? JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone() : null;

    // A special token is written either as a string or as an AddedToken object with "content".
    private static string? TokenContent(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? TokenContent(value) : null;

    private static string? TokenContent(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Object when value.TryGetProperty("content", out var content) => content.GetString(),
        _ => null,
    };

    private static bool? Bool(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : null;
}
