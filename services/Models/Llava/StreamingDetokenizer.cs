namespace MultiModal.Models.Llava;

/// <summary>
/// Turns generated ids into text deltas. Each <see cref="Append"/> re-decodes all ids with
/// <see cref="LlamaTokenizer.Decode"/> and hands out only the part that later ids cannot change, so the concatenation
/// of every delta plus <see cref="Flush"/> is exactly <c>Decode(all ids)</c>. Held back: byte-fallback pieces that are
/// the start of an unfinished UTF-8 character (they would show as U+FFFD now and as the character later); with
/// clean_up_tokenization_spaces, text from the last space on; and, for <c>legacy=true</c> without skipping special
/// tokens, text after the last special token (transformers inserts a space there when the next special token comes).
/// Decoding everything again per token would cost O(n) per token; when skipping special tokens (as generation does),
/// the ids before the last boundary where the decode provably splits (<see cref="LlamaTokenizer.SplitBefore"/>)
/// are decoded once into a fixed prefix, so each token re-decodes only the ids since that boundary.
/// Not thread-safe: one instance per generation.
/// </summary>
public sealed class StreamingDetokenizer
{
    private readonly LlamaTokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly List<int> _ids = [];
    private string _emitted = "";
    private int _anchor;                // ids before it are decoded once, into _anchorText (0: no anchor yet)
    private string _anchorText = "";    // Decode(ids[.._anchor]) + separator: the prefix every later decode starts with

    internal StreamingDetokenizer(LlamaTokenizer tokenizer, bool skipSpecialTokens) =>
        (_tokenizer, _skipSpecialTokens) = (tokenizer, skipSpecialTokens);

    /// <summary>Text handed out so far.</summary>
    public string Text => _emitted;

    /// <summary>Every id appended so far.</summary>
    public IReadOnlyList<int> Ids => _ids;

    /// <summary>Adds one id; returns the new text that is now final (often empty).</summary>
    public string Append(int id)
    {
        _ids.Add(id);
        var last = _ids.Count - 1;
        if (_skipSpecialTokens && last > _anchor && _tokenizer.SplitBefore(_ids[last - 1], id) is { } separator)
        {
            _anchorText = DecodeUpTo(last) + separator;
            _anchor = last;
        }
        var full = DecodeUpTo(_ids.Count);
        return Emit(full, StableLength(full));
    }

    /// <summary>Returns whatever was held back; call once after the last id.</summary>
    public string Flush()
    {
        var full = DecodeUpTo(_ids.Count);
        return Emit(full, full.Length);
    }

    // Decode(ids[..end]), re-decoding only the ids from the anchor on.
    private string DecodeUpTo(int end) => _anchor == 0
        ? _tokenizer.Decode(_ids.Take(end), _skipSpecialTokens)
        : _anchorText + _tokenizer.Decode(_ids.Skip(_anchor).Take(end - _anchor), _skipSpecialTokens);

    // The beginnings of clean_up_tokenization cascades with a space before their last space (longest first).
    private static readonly string[] CascadeStarts = [" n '", " n ", "  '", "  "];

    private string Emit(string full, int stable)
    {
        if (!full.StartsWith(_emitted, StringComparison.Ordinal))
            throw new InvalidOperationException(
                "Decoded text no longer extends the text already streamed; the hold-back rules missed a case.");
        if (stable <= _emitted.Length) return "";
        var delta = full[_emitted.Length..stable];
        _emitted = full[..stable];
        return delta;
    }

    private int StableLength(string full)
    {
        // 1. Trailing bytes of an unfinished UTF-8 character: each shows as one U+FFFD for now. (Skipped special
        // tokens do not break a byte run, nor do ids past the tokenizer, which Decode drops.)
        var trailingBytes = new List<byte>();
        for (var i = _ids.Count - 1; i >= 0; i--)
        {
            if (_skipSpecialTokens && _tokenizer.IsSpecial(_ids[i])) continue;
            if (_tokenizer.IdToToken(_ids[i]) is null) continue;
            if (!_tokenizer.IsBytePiece(_ids[i])) break;
            trailingBytes.Insert(0, (byte)_tokenizer.ByteOf(_ids[i]));
        }
        var stable = full.Length - SentencePieceDecoding.IncompleteTailLength(trailingBytes);

        // 2. clean_up_tokenization rewrites " ." and friends: a pattern always starts at a space.
        if (_tokenizer.Config.CleanUpTokenizationSpaces && full.LastIndexOf(' ') is var space and >= 0)
            stable = Math.Min(stable, space);
        // ... except that " ' " → "'" also removes the space after the quote, which can complete a pattern that starts
        // at an earlier space (" n ' t" → " n't" → "n't"; "  ' s" → " 's" → "'s"): hold back the start of one.
        if (_tokenizer.Config.CleanUpTokenizationSpaces && CascadeStarts.FirstOrDefault(p => full.EndsWith(p, StringComparison.Ordinal)) is { } cascade)
            stable = Math.Min(stable, full.Length - cascade.Length);

        // 3. legacy=true puts a space before a special token that follows text, at the start of that text.
        if (_tokenizer.Legacy && !_skipSpecialTokens)
        {
            var last = _ids.FindLastIndex(_tokenizer.IsDecodedVerbatim);
            stable = Math.Min(stable, last < 0 ? 0 : _tokenizer.Decode(_ids.Take(last + 1), _skipSpecialTokens).Length);
        }
        return Math.Max(stable, 0);
    }
}
