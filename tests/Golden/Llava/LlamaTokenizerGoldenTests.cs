using System.Text.Json;
using MultiModal.Models.Llava;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Golden.Llava;

/// <summary>
/// LlamaTokenizer against transformers 4.37.2's slow LlamaTokenizer (llava/tokenizer/tokenization_golden.json): 40
/// strings × legacy=false/true, checking ids with and without BOS, token strings, and decode with and without
/// skip_special_tokens. Everything is exact (README: "generated ids and tokenizations: exact").
/// </summary>
public sealed class LlamaTokenizerGoldenTests
{
    private static readonly Lazy<JsonDocument> Golden = new(() =>
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("llava", "tokenizer", "tokenization_golden.json"))));

    private static readonly Dictionary<bool, LlamaTokenizer> Tokenizers = new()
    {
        [false] = Create(legacy: false),
        [true] = Create(legacy: true),
    };

    // The model folder's tokenizer files with `legacy` set per mode, over tokenizer/tokenizer.model (the same file).
    private static LlamaTokenizer Create(bool legacy) => LlamaTokenizer.Create(
        TestPaths.Fixture("llava", "tokenizer", "tokenizer.model"),
        LlamaTokenizerConfig.Load(TestPaths.Fixture("llava", "tiny-llava-a")) with { Legacy = legacy });

    public static TheoryData<bool, int> Cases()
    {
        var data = new TheoryData<bool, int>();
        foreach (var legacy in new[] { false, true })
            for (var i = 0; i < CaseList(legacy).GetArrayLength(); i++)
                data.Add(legacy, i);
        return data;
    }

    private static JsonElement CaseList(bool legacy) =>
        Golden.Value.RootElement.GetProperty("modes").GetProperty(legacy ? "legacy_true" : "legacy_false").GetProperty("cases");

    private static JsonElement Case(bool legacy, int index) => CaseList(legacy)[index];

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encode_GoldenText_EqualsTransformersIdsAndTokens(bool legacy, int index)
    {
        var c = Case(legacy, index);
        var text = c.GetProperty("text").GetString()!;
        var tokenizer = Tokenizers[legacy];

        Assert.Equal(Ints(c.GetProperty("ids")), tokenizer.Encode(text));
        var noSpecial = tokenizer.Encode(text, addSpecialTokens: false);
        Assert.Equal(Ints(c.GetProperty("ids_no_special")), noSpecial);
        Assert.Equal(c.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()), noSpecial.Select(tokenizer.IdToToken));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decode_GoldenIds_EqualsTransformersText(bool legacy, int index)
    {
        var c = Case(legacy, index);
        var ids = Ints(c.GetProperty("ids"));
        var tokenizer = Tokenizers[legacy];

        Assert.Equal(c.GetProperty("decode_ids").GetString(), tokenizer.Decode(ids, skipSpecialTokens: false));
        Assert.Equal(c.GetProperty("decode_ids_skip_special").GetString(), tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void StreamingDetokenizer_GoldenIdsOneByOne_ConcatenationEqualsDecode(bool legacy, int index)
    {
        var ids = Ints(Case(legacy, index).GetProperty("ids"));
        var tokenizer = Tokenizers[legacy];
        foreach (var skip in new[] { false, true })
        {
            var stream = tokenizer.CreateStreamingDetokenizer(skip);
            var deltas = ids.Select(stream.Append).ToList();
            deltas.Add(stream.Flush());

            Assert.Equal(tokenizer.Decode(ids, skip), string.Concat(deltas));
            Assert.All(deltas, d => Assert.False(d.Length > 0 && char.IsHighSurrogate(d[^1]), "delta ends inside a surrogate pair"));
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void StreamingDetokenizer_RandomIdSequences_ConcatenationEqualsDecode(bool legacy, bool cleanUp)
    {
        var tokenizer = LlamaTokenizer.Create(TestPaths.Fixture("llava", "tokenizer", "tokenizer.model"),
            LlamaTokenizerConfig.Load(TestPaths.Fixture("llava", "tiny-llava-a")) with { Legacy = legacy, CleanUpTokenizationSpaces = cleanUp });
        var random = new Random(1234);
        // Weighted towards the awkward ids: specials, <image>, ▁, byte pieces (UTF-8 lead and continuation bytes).
        int[] awkward = [0, 1, 2, 1536, 1537, 1373, 3 + 0xE6, 3 + 0x96, 3 + 0x87, 3 + 0xF0, 3 + 0x9F, 3 + 0x98, 3 + 0x80, 3 + 0x2E, 1387, 1437];
        for (var trial = 0; trial < 200; trial++)
        {
            var ids = Enumerable.Range(0, random.Next(1, 25))
                .Select(_ => random.Next(3) == 0 ? random.Next(tokenizer.Count) : awkward[random.Next(awkward.Length)]).ToArray();
            foreach (var skip in new[] { false, true })
            {
                var stream = tokenizer.CreateStreamingDetokenizer(skip);
                var deltas = ids.Select(stream.Append).ToList();
                deltas.Add(stream.Flush());

                Assert.Equal(tokenizer.Decode(ids, skip), string.Concat(deltas));
            }
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void StreamingDetokenizer_LongTextsWithSplicedAwkwardIds_EveryPrefixStreamsToItsDecode(bool legacy, bool cleanUp)
    {
        // Long outputs exercise the fixed prefix (decoded once at word boundaries); contractions, punctuation after
        // spaces, "n't", quotes and byte runs sit right at those boundaries.
        var tokenizer = LlamaTokenizer.Create(TestPaths.Fixture("llava", "tokenizer", "tokenizer.model"),
            LlamaTokenizerConfig.Load(TestPaths.Fixture("llava", "tiny-llava-a")) with { Legacy = legacy, CleanUpTokenizationSpaces = cleanUp });
        var text = string.Concat(Enumerable.Repeat(
            "The cat isn't here , it ' s there . Don't you see ? No n't ' quote ' 42 apples ! 😀 中文 and so on, ok. " +
            "这张图片里有什么？图片里有一只猫和一条狗。they 've 中a文1 ' re ", 6));
        var words = tokenizer.Encode(text, addSpecialTokens: false);
        int[] awkward = [0, 1, 2, 1536, 1537, 1373, 3 + 0xE6, 3 + 0x96, 3 + 0xF0, 3 + 0x9F, 3 + 0x2E, 1387, 1437,
            tokenizer.TokenToId("▁n") ?? 0, tokenizer.TokenToId("'") ?? 0, tokenizer.TokenToId(".") ?? 0];
        var random = new Random(99);
        for (var trial = 0; trial < 12; trial++)
        {
            var ids = words.Select(id => random.Next(8) == 0 ? awkward[random.Next(awkward.Length)] : id).ToArray();
            foreach (var skip in new[] { true, false })
                foreach (var length in new[] { ids.Length, random.Next(1, ids.Length), random.Next(1, ids.Length) })
                {
                    var prefix = ids[..length];
                    var stream = tokenizer.CreateStreamingDetokenizer(skip);
                    var deltas = prefix.Select(stream.Append).ToList();
                    deltas.Add(stream.Flush());

                    Assert.Equal(tokenizer.Decode(prefix, skip), string.Concat(deltas));
                }
        }
    }

    [Fact]
    public void StreamingDetokenizer_EmojiByteFallback_HoldsBytesUntilTheCharacterIsComplete()
    {
        var tokenizer = Tokenizers[false];
        var ids = tokenizer.Encode("Emoji 😀 and", addSpecialTokens: false);   // ... ▁ <0xF0> <0x9F> <0x98> <0x80> ▁and
        var stream = tokenizer.CreateStreamingDetokenizer();

        var deltas = ids.Select(stream.Append).ToList();

        Assert.DoesNotContain(deltas, d => d.Contains('\uFFFD'));
        Assert.Contains("😀", deltas);
        Assert.Equal("Emoji 😀 and", string.Concat(deltas) + stream.Flush());
    }

    [Fact]
    public void Decode_TruncatedUtf8FromByteFallback_GivesOneReplacementCharacterPerByte()
    {
        var tokenizer = Tokenizers[false];
        // <0xE6> <0x96> then "▁and": sentencepiece maps each byte of the unfinished character to U+FFFD.
        var ids = new[] { 3 + 0xE6, 3 + 0x96, tokenizer.TokenToId("▁and")!.Value };

        Assert.Equal("\uFFFD\uFFFD and", tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Load_TinyLlavaFolder_ReadsLegacyFlagAndAddedTokens()
    {
        var tokenizer = LlamaTokenizer.Load(TestPaths.Fixture("llava", "tiny-llava-a"));

        Assert.False(tokenizer.Legacy);
        Assert.Equal(1538, tokenizer.Count);
        Assert.Equal(1536, tokenizer.SentencePieceVocabSize);
        Assert.Equal(1536, tokenizer.TokenToId("<image>"));
        Assert.Equal(1537, tokenizer.PadTokenId);
        Assert.Equal((1, 2, 0), (tokenizer.BosTokenId, tokenizer.EosTokenId, tokenizer.UnkTokenId));
        Assert.True(tokenizer.IsSpecial(1536));
    }
}
