using System.Text;
using MultiModal.Clip;
using MultiModal.Models.Clip;

namespace MultiModal.Tests.Fuzz.Targets;

/// <summary>
/// <see cref="ClipTokenizer.Encode"/> (ftfy text fixing, NFC, HTML unescaping, the pre-tokenizer regex, BPE) on any
/// text a request can carry: the bytes decoded as UTF-8 with U+FFFD for invalid sequences, as protobuf hands the
/// services a string, up to the CLIP service's default <c>MaxTextChars</c>. Nothing may throw; the ids must be
/// [BOS] … [EOS] within the context length, every id in the vocabulary.
/// </summary>
public sealed class ClipTokenizerTarget : IFuzzTarget
{
    public const string TargetName = "clip-tokenizer";
    private readonly ClipTokenizer _tokenizer = ClipTokenizer.FromFolder(FuzzAssets.ClipFolder);
    private readonly int _maxChars = new ClipOptions().MaxTextChars;

    public string Name => TargetName;

    public string Description => "UTF-8 text (invalid bytes → U+FFFD) → ClipTokenizer.Encode; never throws";

    public void Run(ReadOnlySpan<byte> input)
    {
        var text = Encoding.UTF8.GetString(input);
        if (text.Length > _maxChars)
            return; // the service refuses longer texts before tokenizing (ClipRequestMapper.Text)
        var result = _tokenizer.Encode(text);
        var ids = result.Ids;
        FuzzInvariantException.That(ids.Length >= 2 && ids.Length <= _tokenizer.ContextLength, $"{ids.Length} ids");
        FuzzInvariantException.That(ids[0] == _tokenizer.BosTokenId && ids[^1] == _tokenizer.EosTokenId, "ids not framed by BOS/EOS");
        FuzzInvariantException.That(ids.All(id => id is >= 0 and < 49408), "id outside the vocabulary");
        FuzzInvariantException.That(!result.Truncated || ids.Length == _tokenizer.ContextLength, "truncated but shorter than the context");
    }
}
