// Port of sentencepiece's SentencePieceProcessor::Decode(pieces) (src/sentencepiece_processor.cc, the version that tracks
// `bos_ws_seen`, which the golden decodes need) and string_util::DecodeUTF8. Microsoft.ML.Tokenizers decodes byte pieces
// with .NET's UTF-8 decoder, which replaces a truncated sequence by ONE U+FFFD; sentencepiece (and so transformers)
// emits one U+FFFD per invalid byte. Hence this small port.
using System.Text;

namespace MultiModal.Models.Llava;

/// <summary>How sentencepiece turns a list of pieces back into text.</summary>
internal sealed class SentencePieceDecoding
{
    private const char SpaceSymbol = '\u2581';
    private static readonly byte[] ReplacementCharacter = [0xEF, 0xBF, 0xBD];

    private readonly IReadOnlyDictionary<string, int> _pieceToId;
    private readonly int _unkId;
    private readonly HashSet<int> _controlIds;
    private readonly bool _stripBosSpace;

    /// <param name="stripBosSpace">sentencepiece's <c>add_dummy_prefix || remove_extra_whitespaces</c>: drop the
    /// leading ▁ of the first piece that has one.</param>
    public SentencePieceDecoding(IReadOnlyDictionary<string, int> pieceToId, int unkId, IEnumerable<int> controlIds, bool stripBosSpace)
    {
        (_pieceToId, _unkId, _stripBosSpace) = (pieceToId, unkId, stripBosSpace);
        _controlIds = [.. controlIds];
    }

    /// <summary>sentencepiece's <c>PieceToByte</c>: the byte of a <c>&lt;0xXX&gt;</c> piece, else -1.</summary>
    public static int PieceToByte(string piece) =>
        piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
        && byte.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var b)
            ? b : -1;

    /// <summary>
    /// Whether <paramref name="piece"/> decodes as its own text: in the vocabulary and not a byte, control or unknown
    /// piece (those are joined into characters, hidden, or shown as " ⁇ ").
    /// </summary>
    public bool IsPlain(string piece) =>
        _pieceToId.TryGetValue(piece, out var id) && id != _unkId && !_controlIds.Contains(id) && PieceToByte(piece) < 0;

    public string Decode(IReadOnlyList<string> pieces)
    {
        var text = new List<byte>();
        var bytes = new List<byte>();
        var isBosWs = true;   // whether a leading ▁ may still be consumed
        var bosWsSeen = false;
        foreach (var piece in pieces)
        {
            var found = _pieceToId.TryGetValue(piece, out var id);
            var asByte = found ? PieceToByte(piece) : -1;
            if (asByte >= 0)
            {
                bytes.Add((byte)asByte);
                continue;
            }
            FlushBytes(bytes, text);
            if (bosWsSeen || text.Count > 0)
                isBosWs = false;
            string decoded;
            (decoded, bosWsSeen) = DecodePiece(piece, found ? id : _unkId, found, isBosWs);
            text.AddRange(Encoding.UTF8.GetBytes(decoded));
        }
        FlushBytes(bytes, text);
        return Encoding.UTF8.GetString([.. text]);
    }

    private (string Text, bool ConsumedBosWs) DecodePiece(string piece, int id, bool found, bool isBosWs)
    {
        if (_controlIds.Contains(id))
            return ("", false);           // <s>, </s>: invisible
        if (id == _unkId)
            return found ? (" \u2047 ", false) : (piece, false); // the <unk> piece shows as " ⁇ "; unknown text as itself
        var consumed = false;
        if (isBosWs && _stripBosSpace && piece.Length > 0 && piece[0] == SpaceSymbol)
        {
            piece = piece[1..];
            consumed = true;
        }
        return (piece.Replace(SpaceSymbol, ' '), consumed);
    }

    // Each byte run becomes UTF-8 characters; a byte that does not start a valid sequence becomes U+FFFD on its own.
    private static void FlushBytes(List<byte> bytes, List<byte> text)
    {
        var offset = 0;
        while (offset < bytes.Count)
        {
            var length = ValidSequenceLength(bytes, offset);
            if (length == 0)
            {
                text.AddRange(ReplacementCharacter);
                offset += 1;
            }
            else
            {
                for (var j = 0; j < length; j++) text.Add(bytes[offset + j]);
                offset += length;
            }
        }
        bytes.Clear();
    }

    /// <summary>string_util::DecodeUTF8: the length of the valid sequence at <paramref name="offset"/>, or 0.</summary>
    internal static int ValidSequenceLength(IReadOnlyList<byte> s, int offset)
    {
        int len = s.Count - offset, b0 = s[offset];
        static bool Trail(byte b) => (b & 0xC0) == 0x80;
        static bool ValidCodepoint(int c) => c < 0xD800 || (c >= 0xE000 && c <= 0x10FFFF);
        if (b0 < 0x80) return 1;
        if (len >= 2 && (b0 & 0xE0) == 0xC0)
        {
            var cp = ((b0 & 0x1F) << 6) | (s[offset + 1] & 0x3F);
            return Trail(s[offset + 1]) && cp >= 0x80 && ValidCodepoint(cp) ? 2 : 0;
        }
        if (len >= 3 && (b0 & 0xF0) == 0xE0)
        {
            var cp = ((b0 & 0x0F) << 12) | ((s[offset + 1] & 0x3F) << 6) | (s[offset + 2] & 0x3F);
            return Trail(s[offset + 1]) && Trail(s[offset + 2]) && cp >= 0x800 && ValidCodepoint(cp) ? 3 : 0;
        }
        if (len >= 4 && (b0 & 0xF8) == 0xF0)
        {
            var cp = ((b0 & 0x07) << 18) | ((s[offset + 1] & 0x3F) << 12) | ((s[offset + 2] & 0x3F) << 6) | (s[offset + 3] & 0x3F);
            return Trail(s[offset + 1]) && Trail(s[offset + 2]) && Trail(s[offset + 3]) && cp >= 0x10000 && ValidCodepoint(cp) ? 4 : 0;
        }
        return 0;
    }

    /// <summary>
    /// How many bytes at the end of <paramref name="s"/> are an unfinished UTF-8 sequence (a lead byte followed by fewer
    /// continuation bytes than it announces) that more bytes could still complete.
    /// </summary>
    internal static int IncompleteTailLength(IReadOnlyList<byte> s)
    {
        for (var back = 1; back <= Math.Min(3, s.Count); back++)
        {
            var b = s[s.Count - back];
            if ((b & 0xC0) == 0x80) continue;             // continuation byte: keep looking for the lead
            var needed = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
            return needed > back ? back : 0;
        }
        return 0;
    }
}
