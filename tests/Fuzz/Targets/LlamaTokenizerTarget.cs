using System.Buffers.Binary;
using System.Text;
using MultiModal.Models.Llava;
using MultiModal.Vision;

namespace MultiModal.Tests.Fuzz.Targets;

/// <summary>
/// The Llama tokenizer both ways. Encode: the bytes as UTF-8 text (U+FFFD for invalid sequences), as a prompt reaches
/// the Vision service, up to its default <c>MaxPromptChars</c>; every id in the vocabulary. Decode: the same bytes read as
/// 16-bit ids, at most the default <c>MaxNewTokens</c> (any id a model could generate, including byte pieces that form no UTF-8 and ids past the vocabulary),
/// decoded whole and through <see cref="StreamingDetokenizer"/>, whose deltas must concatenate to the whole decode.
/// Nothing may throw.
/// </summary>
public sealed class LlamaTokenizerTarget : IFuzzTarget
{
    public const string TargetName = "llama-tokenizer";
    private readonly LlamaTokenizer _tokenizer = LlamaTokenizer.Load(FuzzAssets.LlavaFolder);
    private readonly int _maxChars = new VisionOptions().MaxPromptChars;
    private readonly int _maxNewTokens = new VisionOptions().MaxNewTokens;

    public string Name => TargetName;

    public string Description => "UTF-8 text → LlamaTokenizer.Encode; the same bytes as u16 ids → Decode and StreamingDetokenizer; never throws";

    public void Run(ReadOnlySpan<byte> input)
    {
        var text = Encoding.UTF8.GetString(input);
        if (text.Length <= _maxChars)
        {
            var ids = _tokenizer.Encode(text);
            FuzzInvariantException.That(ids.All(id => id >= 0 && id < _tokenizer.Count), "encoded id outside the tokenizer");
            _tokenizer.Decode(ids, skipSpecialTokens: false);
        }

        var generated = new int[Math.Min(input.Length / 2, _maxNewTokens)]; // a generation's longest answer
        for (var i = 0; i < generated.Length; i++)
            generated[i] = BinaryPrimitives.ReadUInt16LittleEndian(input[(2 * i)..]) % (_tokenizer.Count + 8); // a few past the end
        foreach (var skip in new[] { true, false })
        {
            var whole = _tokenizer.Decode(generated, skip);
            var streaming = _tokenizer.CreateStreamingDetokenizer(skip);
            var deltas = new StringBuilder();
            foreach (var id in generated)
                deltas.Append(streaming.Append(id));
            deltas.Append(streaming.Flush());
            FuzzInvariantException.That(deltas.ToString() == whole,
                $"streamed deltas (skipSpecialTokens={skip}) do not concatenate to Decode: \"{deltas}\" vs \"{whole}\"");
        }
    }
}
