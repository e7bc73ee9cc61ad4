using System.Text;
using MultiModal.Models.Llava;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Unit.Llava;

/// <summary>
/// <see cref="StreamingDetokenizer"/> with ids past the tokenizer (the padded rows of a larger lm_head) inside a
/// byte-fallback run: Decode drops them without ending the run, so streaming must hold the unfinished character back
/// too. Found by the llama-tokenizer fuzz target (tests/Fuzz/crashes/llama-tokenizer): Append threw
/// InvalidOperationException ("Decoded text no longer extends the text already streamed").
/// </summary>
public class StreamingDetokenizerTests
{
    private readonly LlamaTokenizer _tokenizer = LlamaTokenizer.Load(TestPaths.Fixture("llava", "tiny-llava-a"));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Append_IdPastTokenizerInsideByteRun_DeltasConcatenateToDecode(bool skipSpecialTokens)
    {
        var beyond = _tokenizer.Count + 1;
        int[] ids = [Byte(0xDC), beyond, Byte(0x86), Byte(0xE1), beyond, beyond, Byte(0xBE), Byte(0xBE)]; // "܆" then "ᾚ"
        var streaming = _tokenizer.CreateStreamingDetokenizer(skipSpecialTokens);
        var deltas = new StringBuilder();

        foreach (var id in ids)
            deltas.Append(streaming.Append(id));
        deltas.Append(streaming.Flush());

        Assert.Equal("\u0706\u1FBE", _tokenizer.Decode(ids, skipSpecialTokens));
        Assert.Equal(_tokenizer.Decode(ids, skipSpecialTokens), deltas.ToString());
    }

    private int Byte(int value) => _tokenizer.TokenToId($"<0x{value:X2}>") ?? throw new InvalidOperationException($"no byte piece {value:X2}");
}
