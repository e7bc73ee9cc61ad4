using System.Diagnostics;
using System.Text.Json;
using MultiModal.Models.Clip;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Golden.Clip;

/// <summary>
/// CLIP BPE tokenizer against tests/Golden/Fixtures/clip-tokenizer/tokenization.json: openai's SimpleTokenizer ids
/// (ftfy 6.1.1 on), transformers' CLIPTokenizer padding/truncation to 77, and openai's clip.tokenize padding.
/// </summary>
public sealed class ClipTokenizerGoldenTests
{
    private static readonly Lazy<ClipTokenizer> Tokenizer =
        new(() => ClipTokenizer.FromFolder(TestPaths.Fixture("clip-tokenizer")));

    private static readonly Lazy<JsonElement[]> Cases = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("clip-tokenizer", "tokenization.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.Clone()).ToArray();
    });

    public static TheoryData<int, string> CaseIndices()
    {
        var data = new TheoryData<int, string>();
        for (var i = 0; i < Cases.Value.Length; i++)
        {
            var text = Cases.Value[i].GetProperty("text").GetString()!;
            data.Add(i, text.Length > 40 ? text[..40] + "…" : text); // the label only names the case in the test list
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void EncodeWithoutTruncation_GoldenCase_MatchesOpenAiIds(int index, string label)
    {
        var c = Cases.Value[index];
        var actual = Tokenizer.Value.EncodeWithoutTruncation(c.GetProperty("text").GetString()!);
        Assert.True(Ints(c, "ids").SequenceEqual(actual), $"{label}: expected [{string.Join(",", Ints(c, "ids"))}] got [{string.Join(",", actual)}]");
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void ToPaddedIds_GoldenCase_MatchesHfPaddingAndMask(int index, string label)
    {
        var c = Cases.Value[index];
        var tokenization = Tokenizer.Value.Encode(c.GetProperty("text").GetString()!);
        var ids = Tokenizer.Value.ToPaddedIds(tokenization, out var mask);
        Assert.Equal(Longs(c, "ids_padded_77_hf"), ids);
        Assert.Equal(Longs(c, "attention_mask_77_hf"), mask);
        Assert.Equal(c.GetProperty("openai_tokenize_truncate_false_raises").GetBoolean(), tokenization.Truncated);
        _ = label;
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void ToPaddedIds_GoldenCaseWithPadZero_MatchesOpenAiClipTokenize(int index, string label)
    {
        var c = Cases.Value[index];
        var ids = Tokenizer.Value.ToPaddedIds(Tokenizer.Value.Encode(c.GetProperty("text").GetString()!), out _, padId: 0);
        Assert.Equal(Longs(c, "ids_padded_77_openai"), ids);
        _ = label;
    }

    [Fact]
    public void FromFolder_FixtureConfigs_ReadsSpecialIdsAndContextLength()
    {
        var t = Tokenizer.Value;
        Assert.Equal((49406, 49407, 49407, 77), (t.BosTokenId, t.EosTokenId, t.PadTokenId, t.ContextLength));
    }

    [Fact]
    public void EncodeWithoutTruncation_EmptyText_IsStartAndEndOnly()
    {
        Assert.Equal([49406, 49407], Tokenizer.Value.EncodeWithoutTruncation(""));
    }

    [Fact]
    public void Encode_HundredThousandCharacters_TruncatesTo77Quickly()
    {
        var text = string.Concat(Enumerable.Repeat("A photo of a very long street, with 12 cafés & shops. ", 1_900))[..100_000];
        var t = Tokenizer.Value;
        t.Encode("warm-up");

        var watch = Stopwatch.StartNew();
        var result = t.Encode(text);
        watch.Stop();

        Assert.True(result.Truncated);
        Assert.Equal(77, result.Ids.Length);
        Assert.Equal(49407, result.Ids[^1]);
        // the kept prefix is what the untruncated pipeline gives for the same text
        Assert.Equal(t.EncodeWithoutTruncation(text[..400])[..76], result.Ids[..76]);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(0.5), $"took {watch.Elapsed.TotalMilliseconds:F0} ms");
    }

    private static int[] Ints(JsonElement c, string name) => c.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();

    private static long[] Longs(JsonElement c, string name) => c.GetProperty(name).EnumerateArray().Select(e => e.GetInt64()).ToArray();
}
