// Port of transformers v4.37.2 tokenization_llama.py (LlamaTokenizer, the slow sentencepiece tokenizer that llava-hf
// folders name) and the parts of tokenization_utils.py it relies on (added-token splitting in tokenize(), _decode()).
// BPE itself is Microsoft.ML.Tokenizers' SentencePieceTokenizer, fed text we normalise ourselves (spaces → ▁, dummy
// prefix) so that the `legacy` switch can be honoured. Decoding follows sentencepiece's own rules (SentencePieceDecoding).
// Deviations: AddedToken.single_word is not supported (no llava-hf folder sets it); ids beyond the tokenizer (the padded
// rows of a 32064-row lm_head) decode to nothing where transformers would raise.
using Microsoft.ML.Tokenizers;

namespace MultiModal.Models.Llava;

/// <summary>
/// Llama / LLaVA tokenizer equal to transformers 4.37's slow <c>LlamaTokenizer</c>: sentencepiece BPE with byte
/// fallback, added tokens such as <c>&lt;image&gt;</c> split out before BPE, BOS/EOS per <c>tokenizer_config.json</c>,
/// and both values of its <c>legacy</c> flag. Thread-safe after construction.
/// </summary>
public sealed class LlamaTokenizer
{
    private const char SpaceSymbol = '\u2581';

    private readonly SentencePieceTokenizer _sp;
    private readonly string[] _pieces;                          // sentencepiece id → piece
    private readonly Dictionary<string, int> _pieceToId;
    private readonly Dictionary<string, AddedTokenEntry> _addedByContent;
    private readonly Dictionary<int, AddedTokenEntry> _addedById;
    private readonly AddedTokenEntry[] _addedLongestFirst;
    private readonly HashSet<string> _allSpecialTokens;
    private readonly HashSet<int> _allSpecialIds;
    private readonly HashSet<string> _legacyAddedTokens;
    private readonly SentencePieceDecoding _spDecoding;
    private readonly int _spaceId;

    public LlamaTokenizerConfig Config { get; }

    /// <summary>transformers' <c>legacy</c>: false means no dummy prefix after added tokens (see <see cref="Encode(string, bool)"/>).</summary>
    public bool Legacy => Config.Legacy;

    public int BosTokenId { get; }
    public int EosTokenId { get; }
    public int UnkTokenId { get; }
    public int? PadTokenId { get; }

    /// <summary>Pieces in tokenizer.model (transformers' <c>vocab_size</c>).</summary>
    public int SentencePieceVocabSize => _pieces.Length;

    /// <summary><c>len(tokenizer)</c>: pieces plus appended added tokens.</summary>
    public int Count { get; }

    private LlamaTokenizer(SentencePieceTokenizer sp, LlamaTokenizerConfig config)
    {
        _sp = sp;
        Config = config;
        if (sp.Normalizer is SentencePieceNormalizer { RemoveExtraWhiteSpaces: true })
            throw new NotSupportedException("tokenizer.model removes extra whitespace; Llama tokenizers never do and this port does not.");
        _pieceToId = sp.Vocabulary.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        _pieces = new string[_pieceToId.Values.Max() + 1];
        foreach (var (piece, id) in _pieceToId) _pieces[id] = piece;

        // transformers registers bos/eos/unk/pad and the additional special tokens as added tokens even when
        // added_tokens_decoder does not list them.
        var added = config.AddedTokens.ToDictionary(a => a.Id);
        foreach (var special in config.AllSpecialTokens)
            if (added.Values.All(a => a.Content != special) && _pieceToId.TryGetValue(special, out var pid))
                added[pid] = new AddedTokenEntry(pid, special);
        if (added.Values.FirstOrDefault(a => a.SingleWord) is { } singleWord)
            throw new NotSupportedException($"Added token '{singleWord.Content}' has single_word=true, which this tokenizer does not support.");
        _addedById = added;
        _addedByContent = added.Values.ToDictionary(a => a.Content, StringComparer.Ordinal);
        _addedLongestFirst = [.. added.Values.OrderByDescending(a => a.Content.Length)];
        Count = Math.Max(_pieces.Length, added.Count == 0 ? 0 : added.Keys.Max() + 1);

        _allSpecialTokens = [.. config.AllSpecialTokens];
        _allSpecialIds = [.. _allSpecialTokens.Select(TokenToId).OfType<int>()];
        // _decode's legacy_added_tokens: added tokens that are not special, plus additional special tokens appended
        // after the sentencepiece vocabulary (<image>). They are joined to the text around them with spaces.
        _legacyAddedTokens = [.. _addedByContent.Keys.Where(t => !_allSpecialTokens.Contains(t))
            .Concat(config.AdditionalSpecialTokens.Where(t => TokenToId(t) >= _pieces.Length))];

        BosTokenId = TokenToId(config.BosToken) ?? throw new InvalidDataException($"bos_token '{config.BosToken}' has no id.");
        EosTokenId = TokenToId(config.EosToken) ?? throw new InvalidDataException($"eos_token '{config.EosToken}' has no id.");
        UnkTokenId = TokenToId(config.UnkToken) ?? throw new InvalidDataException($"unk_token '{config.UnkToken}' has no id.");
        PadTokenId = config.PadToken is null ? null : TokenToId(config.PadToken);
        _spaceId = _pieceToId.TryGetValue(SpaceSymbol.ToString(), out var space) ? space : -1;

        // legacy=false loads the model with add_dummy_prefix forced off, which also changes decoding.
        var dummyPrefix = config.Legacy && sp.AddDummyPrefix;
        _spDecoding = new SentencePieceDecoding(_pieceToId, sp.UnknownId, [sp.BeginningOfSentenceId, sp.EndOfSentenceId], stripBosSpace: dummyPrefix);
    }

    /// <summary>Loads <c>tokenizer.model</c> and the tokenizer JSON files of a llava-hf / Llama folder.</summary>
    public static LlamaTokenizer Load(string folder)
    {
        var modelPath = Path.Combine(folder, "tokenizer.model");
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"No tokenizer.model in '{folder}' (only sentencepiece Llama tokenizers are supported).", modelPath);
        return Create(modelPath, LlamaTokenizerConfig.Load(folder));
    }

    /// <summary>Creates the tokenizer from a sentencepiece model file and an explicit configuration.</summary>
    public static LlamaTokenizer Create(string tokenizerModelPath, LlamaTokenizerConfig config)
    {
        using var stream = File.OpenRead(tokenizerModelPath);
        var sp = SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false, specialTokens: null);
        if (!sp.ByteFallback)
            throw new NotSupportedException($"'{tokenizerModelPath}' has no byte fallback; Llama tokenizers always do.");
        return new LlamaTokenizer(sp, config);
    }

    /// <summary><c>tokenizer(text).input_ids</c>: BOS (and EOS) as configured.</summary>
    public int[] Encode(string text) => Encode(text, addSpecialTokens: true);

    /// <summary>
    /// transformers' <c>encode(text, add_special_tokens)</c>. Added tokens are matched first (longest match, honouring
    /// lstrip/rstrip); every other span is sentencepiece-encoded. With <c>legacy=true</c> each span gets sentencepiece's
    /// dummy prefix ▁, so text right after <c>&lt;image&gt;</c> starts with ▁; with <c>legacy=false</c> only the start of
    /// the whole text gets ▁, and a lone ▁ before a leading special token is dropped.
    /// </summary>
    public int[] Encode(string text, bool addSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        if (addSpecialTokens && Config.AddBosToken) ids.Add(BosTokenId);
        ids.AddRange(Tokenize(text));
        if (addSpecialTokens && Config.AddEosToken) ids.Add(EosTokenId);
        return [.. ids];
    }

    // LlamaTokenizer.tokenize + PreTrainedTokenizer.tokenize, producing ids instead of token strings.
    private List<int> Tokenize(string text)
    {
        var ids = new List<int>();
        if (text.Length == 0) return ids;
        var work = Legacy ? text : SpaceSymbol + text.Replace(SpaceSymbol, ' ');
        var parts = SplitOnAddedTokens(work);
        foreach (var (span, token) in parts)
        {
            if (token is not null) ids.Add(token.Id);
            else if (span.Length > 0) ids.AddRange(EncodeSpan(span));
        }
        if (!Legacy && ids.Count > 1 && ids[0] == _spaceId && _addedById.TryGetValue(ids[1], out var next)
            && _allSpecialTokens.Contains(next.Content))
            ids.RemoveAt(0);
        return ids;
    }

    // _tokenize: sentencepiece on one span. Spaces become ▁ here (the identity normaliser does only that); the dummy
    // prefix exists only in legacy mode (legacy=false loads the model with add_dummy_prefix=False and encodes
    // "<unk>" + span, dropping the <unk> pieces, which is BPE of the span exactly as written).
    private IReadOnlyList<int> EncodeSpan(string span)
    {
        var escaped = span.Replace(' ', SpaceSymbol);
        if (Legacy && _sp.AddDummyPrefix) escaped = SpaceSymbol + escaped;
        return _sp.EncodeToIds(escaped, addBeginningOfSentence: false, addEndOfSentence: false,
            considerPreTokenization: false, considerNormalization: false);
    }

    // tokens_trie.split + the lstrip/rstrip handling of PreTrainedTokenizer.tokenize.
    private List<(string Span, AddedTokenEntry? Token)> SplitOnAddedTokens(string text)
    {
        var parts = new List<(string Span, AddedTokenEntry? Token)>();
        int start = 0, i = 0;
        while (i < text.Length)
        {
            var match = _addedLongestFirst.FirstOrDefault(a => a.Content.Length > 0 && text.AsSpan(i).StartsWith(a.Content, StringComparison.Ordinal));
            if (match is null) { i++; continue; }
            parts.Add((text[start..i], null));
            parts.Add(("", match));
            i += match.Content.Length;
            start = i;
        }
        parts.Add((text[start..], null));

        for (var k = 0; k < parts.Count; k++)
        {
            if (parts[k].Token is not { } token) continue;
            if (token.RStrip && k + 1 < parts.Count && parts[k + 1].Token is null)
                parts[k + 1] = (parts[k + 1].Span.TrimStart(), null);
            if (token.LStrip && k > 0 && parts[k - 1].Token is null)
                parts[k - 1] = (parts[k - 1].Span.TrimEnd(), null);
        }
        return parts;
    }

    /// <summary>The token string of an id (a sentencepiece piece or an added token), or null beyond the tokenizer.</summary>
    public string? IdToToken(int id) =>
        _addedById.TryGetValue(id, out var added) ? added.Content
        : id >= 0 && id < _pieces.Length ? _pieces[id]
        : null;

    /// <summary>The id of a token string, or null when it is neither a piece nor an added token.</summary>
    public int? TokenToId(string token) =>
        _addedByContent.TryGetValue(token, out var added) ? added.Id
        : _pieceToId.TryGetValue(token, out var id) ? id
        : null;

    /// <summary>Whether <paramref name="id"/> is one of transformers' <c>all_special_ids</c> (skipped by <c>skip_special_tokens</c>).</summary>
    public bool IsSpecial(int id) => _allSpecialIds.Contains(id);

    /// <summary>
    /// transformers' <c>decode(ids, skip_special_tokens)</c> (spaces_between_special_tokens=True, which the slow
    /// tokenizer uses whatever tokenizer_config.json says). Byte-fallback pieces that do not form valid UTF-8 become
    /// one U+FFFD per byte, as sentencepiece does.
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var subTexts = new List<string>();
        var current = new List<string>();
        foreach (var id in ids)
        {
            if (skipSpecialTokens && _allSpecialIds.Contains(id)) continue;
            if (IdToToken(id) is not { } token) continue;
            if (_legacyAddedTokens.Contains(token))
            {
                if (current.Count > 0)
                {
                    var s = ConvertTokensToString(current);
                    if (s.Length > 0) subTexts.Add(s);
                    current.Clear();
                }
                subTexts.Add(token);
            }
            else
            {
                current.Add(token);
            }
        }
        if (current.Count > 0) subTexts.Add(ConvertTokensToString(current));
        var text = string.Join(' ', subTexts);
        return Config.CleanUpTokenizationSpaces ? CleanUpTokenization(text) : text;
    }

    /// <summary>A detokenizer that turns ids into text deltas as they are generated (see <see cref="StreamingDetokenizer"/>).</summary>
    public StreamingDetokenizer CreateStreamingDetokenizer(bool skipSpecialTokens = true) => new(this, skipSpecialTokens);

    internal bool IsBytePiece(int id) =>
        id >= 0 && id < _pieces.Length && !_addedById.ContainsKey(id) && SentencePieceDecoding.PieceToByte(_pieces[id]) >= 0;

    internal int ByteOf(int id) => SentencePieceDecoding.PieceToByte(_pieces[id]);

    /// <summary>
    /// Where <c>Decode(ids, skipSpecialTokens: true)</c> splits exactly before <paramref name="next"/> when it follows
    /// <paramref name="previous"/>: the decode of everything before, the returned separator, and the decode of everything
    /// from <paramref name="next"/> on, as if it started a text; null where it may not. Both must be plain
    /// sentencepiece pieces in one run (no byte run, added or special token between) and the previous text must end in
    /// a letter or digit. Then a next piece "▁" + letter or digit splits with " " (the dummy-prefix space a restarted
    /// decode drops and sentencepiece keeps mid-text; not "▁n", which " n't" could join), and a next piece starting
    /// with a non-ASCII letter or digit (CJK text has no word spaces) splits with "": no clean_up_tokenization pattern
    /// (" .", " n't", " ' ", " 've", ...) can match across either.
    /// </summary>
    internal string? SplitBefore(int previous, int next)
    {
        if (!IsPlainPiece(previous) || !IsPlainPiece(next)) return null;
        string before = _pieces[previous], after = _pieces[next];
        if (!char.IsLetterOrDigit(before[^1])) return null;
        if (after[0] != SpaceSymbol)
            return char.IsLetterOrDigit(after[0]) && !char.IsAscii(after[0]) ? "" : null;
        return after.Length >= 2 && char.IsLetterOrDigit(after[1])
            && !(after[1] == 'n' && (after.Length == 2 || after[2] == '\''))                    // " n't"
            ? " " : null;
    }

    private bool IsPlainPiece(int id) =>
        id >= 0 && id < _pieces.Length && _pieces[id] is { Length: > 0 } piece && !_addedById.ContainsKey(id)
        && !_allSpecialIds.Contains(id) && _spDecoding.IsPlain(piece);

    /// <summary>Whether the token of <paramref name="id"/> is decoded outside sentencepiece (special or legacy-added).</summary>
    internal bool IsDecodedVerbatim(int id) =>
        IdToToken(id) is { } token && (_allSpecialTokens.Contains(token) || _legacyAddedTokens.Contains(token));

    // LlamaTokenizer.convert_tokens_to_string (4.37): drop the dummy-prefix ▁ of the first token; special tokens are
    // copied verbatim and, in legacy mode, preceded by a space when they follow ordinary text.
    private string ConvertTokensToString(List<string> tokens)
    {
        var list = new List<string>(tokens);
        if (list[0].Length > 0 && list[0][0] == SpaceSymbol) list[0] = list[0][1..];
        var output = new System.Text.StringBuilder();
        var pending = new List<string>();
        var prevIsSpecial = false;
        for (var i = 0; i < list.Count; i++)
        {
            if (_allSpecialTokens.Contains(list[i]))
            {
                if (!prevIsSpecial && i != 0 && Legacy) output.Append(' ');
                output.Append(_spDecoding.Decode(pending)).Append(list[i]);
                pending.Clear();
                prevIsSpecial = true;
            }
            else
            {
                pending.Add(list[i]);
                prevIsSpecial = false;
            }
        }
        return output.Append(_spDecoding.Decode(pending)).ToString();
    }

    // PreTrainedTokenizerBase.clean_up_tokenization.
    private static string CleanUpTokenization(string text) => text
        .Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",").Replace(" ' ", "'")
        .Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" 's", "'s").Replace(" 've", "'ve").Replace(" 're", "'re");
}
