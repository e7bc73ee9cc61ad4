using System.Text.Json;
using MultiModal.Models.Errors;

namespace MultiModal.Models.Clip;

/// <summary>
/// The CLIP byte-level BPE tokenizer, id for id openai/CLIP's SimpleTokenizer (= transformers' CLIPTokenizer with
/// ftfy installed): <see cref="ClipTextNormalizer"/> → <see cref="ClipPreTokenizer"/> → byte-level BPE with "&lt;/w&gt;"
/// ending each word (<see cref="ClipBpe"/>, which says why it is not Microsoft.ML.Tokenizers' BpeTokenizer).
/// </summary>
public sealed class ClipTokenizer
{
    /// <summary>What HF uses when a tokenizer_config.json has no model_max_length, and every CLIP text tower's size.</summary>
    public const int DefaultContextLength = 77;

    private readonly ClipBpe _bpe;
    private readonly int _startOfTextId;
    private readonly int _endOfTextId;

    private ClipTokenizer(ClipBpe bpe, int bosTokenId, int eosTokenId, int padTokenId, int contextLength)
    {
        _bpe = bpe;
        _startOfTextId = bpe.Vocabulary[ClipPreTokenizer.StartOfText];
        _endOfTextId = bpe.Vocabulary[ClipPreTokenizer.EndOfText];
        BosTokenId = bosTokenId;
        EosTokenId = eosTokenId;
        PadTokenId = padTokenId;
        ContextLength = contextLength;
    }

    /// <summary>Id of &lt;|startoftext|&gt; (49406 in CLIP's vocabulary).</summary>
    public int BosTokenId { get; }

    /// <summary>Id of &lt;|endoftext|&gt; (49407).</summary>
    public int EosTokenId { get; }

    /// <summary>Id HF pads with: &lt;|endoftext|&gt; for openai's checkpoints and SD 1.x, "!" (0) for SD 2.x.</summary>
    public int PadTokenId { get; }

    /// <summary>Ids per sequence including BOS and EOS (model_max_length, 77 for CLIP).</summary>
    public int ContextLength { get; }

    /// <summary>
    /// Loads a Hugging Face CLIP tokenizer folder: vocab.json and merges.txt, plus the optional
    /// special_tokens_map.json / tokenizer_config.json for the pad token and model_max_length (HF lets the former
    /// override the latter).
    /// </summary>
    public static ClipTokenizer FromFolder(string dir)
    {
        var vocabPath = Path.Combine(dir, "vocab.json");
        var mergesPath = Path.Combine(dir, "merges.txt");
        if (!File.Exists(vocabPath) || !File.Exists(mergesPath))
            throw new FileNotFoundException($"CLIP tokenizer folder {dir} needs vocab.json and merges.txt");

        var bpe = ClipBpe.Load(vocabPath, mergesPath);

        var specialMap = ReadJson(Path.Combine(dir, "special_tokens_map.json"));
        var config = ReadJson(Path.Combine(dir, "tokenizer_config.json"));
        string Token(string key, string fallback) =>
            TokenContent(specialMap, key) ?? TokenContent(config, key) ?? fallback;

        int Id(string token) => bpe.Vocabulary.TryGetValue(token, out var id)
            ? id
            : throw new InvalidDataException($"token {token} is not in {vocabPath}");

        var bos = Id(Token("bos_token", ClipPreTokenizer.StartOfText));
        var eos = Id(Token("eos_token", ClipPreTokenizer.EndOfText));
        var pad = Id(Token("pad_token", ClipPreTokenizer.EndOfText));
        return new ClipTokenizer(bpe, bos, eos, pad, ReadContextLength(config));
    }

    /// <summary>[BOS] + all content ids + [EOS], however long (openai's encode with the start/end tokens).</summary>
    public int[] EncodeWithoutTruncation(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [BosTokenId, .. ContentIds(text), EosTokenId];
    }

    /// <summary>
    /// HF truncation (also openai's truncate=True ids): [BOS] + the first ContextLength-2 content ids + [EOS]. BPE stops
    /// one word after the limit, so a very long text costs its normalisation plus ContextLength tokens of BPE.
    /// </summary>
    public ClipTokenization Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var maxContent = ContextLength - 2;
        var ids = new List<int>(ContextLength) { BosTokenId };
        var truncated = false;
        foreach (var id in ContentIds(text))
        {
            if (ids.Count - 1 == maxContent)
            {
                truncated = true;
                break;
            }
            ids.Add(id);
        }
        ids.Add(EosTokenId);
        return new ClipTokenization([.. ids], truncated);
    }

    /// <summary>Like <see cref="Encode"/>, but a text that does not fit is refused instead of truncated.</summary>
    public int[] EncodeOrReject(string text)
    {
        var result = Encode(text);
        if (result.Truncated)
            throw new InputRejectedException(InputRejection.PromptTooLong,
                $"text is longer than the {ContextLength - 2} tokens this CLIP text encoder accepts");
        return result.Ids;
    }

    /// <summary>Ids padded to <see cref="ContextLength"/> with <see cref="PadTokenId"/> (HF padding="max_length").</summary>
    public long[] ToPaddedIds(ClipTokenization tokenization, out long[] attentionMask) =>
        ToPaddedIds(tokenization, out attentionMask, PadTokenId);

    /// <summary>
    /// Ids padded to <see cref="ContextLength"/> with <paramref name="padId"/> (0 gives openai's clip.tokenize);
    /// the mask is 1 for real tokens, BOS and EOS included, and 0 for padding.
    /// </summary>
    public long[] ToPaddedIds(ClipTokenization tokenization, out long[] attentionMask, int padId)
    {
        ArgumentNullException.ThrowIfNull(tokenization);
        var ids = tokenization.Ids;
        if (ids.Length > ContextLength)
            throw new ArgumentException($"{ids.Length} ids do not fit the context length {ContextLength}", nameof(tokenization));
        var padded = new long[ContextLength];
        attentionMask = new long[ContextLength];
        for (var i = 0; i < ContextLength; i++)
        {
            var real = i < ids.Length;
            padded[i] = real ? ids[i] : padId;
            attentionMask[i] = real ? 1 : 0;
        }
        return padded;
    }

    private IEnumerable<int> ContentIds(string text)
    {
        foreach (var word in ClipPreTokenizer.Split(ClipTextNormalizer.Normalize(text)))
        {
            // openai seeds its BPE cache with the two special tokens, so their literal text maps to their ids
            if (word == ClipPreTokenizer.StartOfText) yield return _startOfTextId;
            else if (word == ClipPreTokenizer.EndOfText) yield return _endOfTextId;
            else
                foreach (var id in _bpe.EncodeWord(word))
                    yield return id;
        }
    }

    private static JsonElement? ReadJson(string path)
    {
        if (!File.Exists(path)) return null;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    /// <summary>A special token written as a string or as an AddedToken object {"content": ...}.</summary>
    private static string? TokenContent(JsonElement? json, string key)
    {
        if (json is not { ValueKind: JsonValueKind.Object } obj || !obj.TryGetProperty(key, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var content) => content.GetString(),
            _ => null,
        };
    }

    private static int ReadContextLength(JsonElement? config)
    {
        if (config is not { ValueKind: JsonValueKind.Object } obj
            || !obj.TryGetProperty("model_max_length", out var value) || value.ValueKind != JsonValueKind.Number)
            return DefaultContextLength;
        var length = value.GetDouble();
        // HF writes int(1e30) when a checkpoint sets no limit: CLIP's position table still holds 77.
        if (length > 1_000_000) return DefaultContextLength;
        if (length < 2 || length != Math.Floor(length))
            throw new InvalidDataException($"model_max_length {length} cannot hold BOS and EOS");
        return (int)length;
    }
}
