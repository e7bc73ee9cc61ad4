namespace MultiModal.Models.Llava;

/// <summary>
/// Turns generated ids into text deltas. Each <see cref="Append"/> re-decodes all ids with
/// <see cref="LlamaTokenizer.Decode"/> and hands out only the part that later ids cannot change, so the concatenation
/// of every delta plus <see cref="Flush"/> is exactly <c>Decode(all ids)</c>. Held back: byte-fallback pieces that are
/// the start of an unfinished UTF-8 character (they would show as U+FFFD now and as the character later); with
/// clean_up_tokenization_spaces, text from the last space on; and, for <c>legacy=true</c> without skipping special
/// tokens, text after the last special token (transformers inserts a space there when the next special token comes).
/// Not thread-safe: one instance per generation.
/// </summary>
public sealed class StreamingDetokenizer
{
    private readonly LlamaTokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly List<int> _ids = [];
    private string _emitted = "";

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
        var full = _tokenizer.Decode(_ids, _skipSpecialTokens);
        return Emit(full, StableLength(full));
    }

    /// <summary>Returns whatever was held back; call once after the last id.</summary>
    public string Flush()
    {
        var full = _tokenizer.Decode(_ids, _skipSpecialTokens);
        return Emit(full, full.Length);
    }

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
        var visible = _skipSpecialTokens ? _ids.Where(id => !_tokenizer.IsSpecial(id)).ToList() : _ids;

        // 1. Trailing bytes of an unfinished UTF-8 character: each shows as one U+FFFD for now.
        var trailingBytes = new List<byte>();
        for (var i = visible.Count - 1; i >= 0 && _tokenizer.IsBytePiece(visible[i]); i--)
            trailingBytes.Insert(0, (byte)_tokenizer.ByteOf(visible[i]));
        var stable = full.Length - SentencePieceDecoding.IncompleteTailLength(trailingBytes);

        // 2. clean_up_tokenization rewrites " ." and friends: a pattern always starts at a space.
        if (_tokenizer.Config.CleanUpTokenizationSpaces && full.LastIndexOf(' ') is var space and >= 0)
            stable = Math.Min(stable, space);

        // 3. legacy=true puts a space before a special token that follows text, at the start of that text.
        if (_tokenizer.Legacy && !_skipSpecialTokens)
        {
            var last = _ids.FindLastIndex(_tokenizer.IsDecodedVerbatim);
            stable = Math.Min(stable, last < 0 ? 0 : _tokenizer.Decode(_ids.Take(last + 1), _skipSpecialTokens).Length);
        }
        return Math.Max(stable, 0);
    }
}
