using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.Tokenizers;
using MultiModal.Models.Clip;
using MultiModal.Models.Errors;
using MultiModal.Tests.Testing;
using Xunit;
using Xunit.Abstractions;

namespace MultiModal.Tests.Golden.Clip;

/// <summary>
/// CLIP BPE tokenizer against tests/Golden/Fixtures/clip-tokenizer/tokenization.json: openai's SimpleTokenizer ids
/// (ftfy 6.1.1 on), transformers' CLIPTokenizer padding/truncation to 77, and openai's clip.tokenize padding.
/// </summary>
public sealed class ClipTokenizerGoldenTests(ITestOutputHelper output)
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
    public void FromFolder_TinyClipModelFolder_MatchesItsGoldenInputIds()
    {
        // tiny-clip's special_tokens_map.json writes pad_token as an AddedToken object, not a string
        var tokenizer = ClipTokenizer.FromFolder(TestPaths.Fixture("tiny-clip", "model"));
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("tiny-clip", "golden.json")));
        var texts = doc.RootElement.GetProperty("texts").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var golden = new GoldenTensors(TestPaths.Fixture("tiny-clip", "golden.safetensors"));
        using var expectedIds = golden["input_ids"];
        using var expectedMask = golden["attention_mask"];

        for (var i = 0; i < texts.Length; i++)
        {
            var ids = tokenizer.ToPaddedIds(tokenizer.Encode(texts[i]), out var mask);
            Assert.Equal(expectedIds[i].data<long>().ToArray(), ids);
            Assert.Equal(expectedMask[i].data<long>().ToArray(), mask);
        }
    }

    [Fact]
    public void FromFolder_Sd2StylePadAndNoMaxLength_PadsWithExclamationAnd77()
    {
        var dir = Directory.CreateTempSubdirectory("clip-tokenizer-sd2-").FullName;
        try
        {
            foreach (var file in new[] { "vocab.json", "merges.txt" })
                File.Copy(TestPaths.Fixture("clip-tokenizer", file), Path.Combine(dir, file));
            File.WriteAllText(Path.Combine(dir, "special_tokens_map.json"), """{"pad_token": "!"}""");
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"pad_token": "<|endoftext|>"}""");

            var tokenizer = ClipTokenizer.FromFolder(dir);
            var ids = tokenizer.ToPaddedIds(tokenizer.Encode("a dog"), out var mask);

            Assert.Equal((0, 77), (tokenizer.PadTokenId, tokenizer.ContextLength));
            Assert.Equal([49406, 320, 1929, 49407, 0, 0], ids[..6]);
            Assert.Equal([1, 1, 1, 1, 0, 0], mask[..6]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void EncodeOrReject_TooLongText_ThrowsPromptTooLong()
    {
        var longText = string.Concat(Enumerable.Repeat("a ", 76));
        var error = Assert.Throws<InputRejectedException>(() => Tokenizer.Value.EncodeOrReject(longText));
        Assert.Equal(InputRejection.PromptTooLong, error.Kind);
        Assert.Equal(77, Tokenizer.Value.EncodeOrReject(longText[..^2]).Length); // 75 words fit exactly
    }

    /// <summary>
    /// ClipBpe replaces Microsoft.ML.Tokenizers' BpeTokenizer only for speed on very long words: on generated words
    /// (Latin, accents, CJK, emoji, digits, punctuation) both must give the same ids.
    /// </summary>
    [Fact]
    public void EncodeWithoutTruncation_GeneratedWords_MatchesMlTokenizersBpe()
    {
        var dir = TestPaths.Fixture("clip-tokenizer");
        var reference = BpeTokenizer.Create(new BpeOptions(Path.Combine(dir, "vocab.json"), Path.Combine(dir, "merges.txt"))
        {
            ByteLevel = true,
            EndOfWordSuffix = "</w>",
            PreTokenizer = null,
            Normalizer = null,
        });
        var alphabet = "abcdefghijklmnopqrstuvwxyz éèüößñçøå 猫の写真 한국 фото 🐱🍕 0123456789 .,!?'-&#@ ".EnumerateRunes().ToArray();
        var random = new Random(20240229);
        for (var n = 0; n < 500; n++)
        {
            var text = string.Concat(Enumerable.Range(0, random.Next(1, 40)).Select(_ => alphabet[random.Next(alphabet.Length)].ToString()));
            var expected = ClipPreTokenizer.Split(ClipTextNormalizer.Normalize(text))
                .SelectMany(word => reference.EncodeToIds(word, considerPreTokenization: false, considerNormalization: false));
            Assert.Equal([49406, .. expected, 49407], Tokenizer.Value.EncodeWithoutTruncation(text));
        }
    }

    // The two tests below bound work, not speed: they compare the CPU time of two calls on the same thread (a ratio,
    // so the CPU's speed cancels, and thread CPU time, so other processes and parallel tests do not count). Wall-clock
    // bounds here (20 s / 30 s) failed under load: the 'é' word took 56 s of wall time at load average 57 on 2 cores.

    [Fact]
    public void Encode_HundredThousandCharacters_TruncatesTo77WithoutEncodingTheRest()
    {
        var text = string.Concat(Enumerable.Repeat("A photo of a very long street, with 12 cafés & shops. ", 1_900))[..100_000];
        var t = Tokenizer.Value;
        t.Encode("warm-up é"); // loads the lazily read Unicode/ftfy tables
        t.Encode(text[..10_000]);

        // Milliseconds each: the least of three measurements, so a preemption or GC pause in one does not count.
        ClipTokenization result = null!;
        var small = Enumerable.Range(0, 3).Min(_ => ThreadCpuTime.Measure(() =>
        {
            for (var i = 0; i < 10; i++)
                t.Encode(text[..10_000]);
        })) / 10;
        var large = Enumerable.Range(0, 3).Min(_ => ThreadCpuTime.Measure(() => result = t.Encode(text)));

        Assert.True(result.Truncated);
        Assert.Equal(77, result.Ids.Length);
        Assert.Equal(49407, result.Ids[^1]);
        // the kept prefix is what the untruncated pipeline gives for the same text
        Assert.Equal(t.EncodeWithoutTruncation(text[..400])[..76], result.Ids[..76]);
        // The discarded tail is still normalised (linear), so ten times the text may cost about ten times the CPU
        // time, not a hundred (work quadratic in the tail); the bound, 40x, lies between them. Measured 7-16 ms CPU
        // for the 100k characters, 4-16x the 10k (AVX-512 and AVX2).
        var ratio = large / small;
        output.WriteLine($"10k chars {small.TotalMilliseconds:F2} ms CPU, 100k chars {large.TotalMilliseconds:F2} ms CPU ({ratio:F1}x)");
        BoundLog.AtMost("100k / 10k text CPU time", ratio, 40);
        Assert.True(ratio <= 40, $"100k characters cost {ratio:F1}x the CPU time of 10k ({large.TotalMilliseconds:F1} vs {small.TotalMilliseconds:F2} ms)");
    }

    [Theory]
    [InlineData('a')]
    [InlineData('é')]
    public void Encode_HundredThousandCharacterWord_TruncatesWithoutQuadraticBlowUp(char letter)
    {
        // One pre-tokenized word cannot be cut short without changing its ids, so its BPE must scale: ML.Tokenizers'
        // merge loop took 2.4 s ('a') and 11 s ('é') on these words. Ten times the length must cost about ten times
        // the CPU time (n log n: 12.5x), not a hundred (quadratic); the bound, 40x, lies between them.
        var word = new string(letter, 100_000);
        var tenth = new string(letter, 10_000);
        Tokenizer.Value.Encode("warm-up é");
        Tokenizer.Value.Encode(tenth);

        ClipTokenization result = null!;
        var small = ThreadCpuTime.Measure(() =>
        {
            for (var i = 0; i < 3; i++)
                Tokenizer.Value.Encode(tenth);
        }) / 3;
        var large = ThreadCpuTime.Measure(() => result = Tokenizer.Value.Encode(word));

        Assert.True(result.Truncated);
        Assert.Equal(77, result.Ids.Length);
        var ratio = large / small;
        output.WriteLine($"'{letter}': 10k chars {small.TotalMilliseconds:F1} ms CPU, 100k chars {large.TotalMilliseconds:F1} ms CPU ({ratio:F1}x)");
        BoundLog.AtMost($"'{letter}' 100k / 10k CPU time", ratio, 40);
        Assert.True(ratio <= 40, $"100k characters cost {ratio:F1}x the CPU time of 10k ({large.TotalMilliseconds:F0} vs {small.TotalMilliseconds:F1} ms)");
    }

    private static int[] Ints(JsonElement c, string name) => c.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();

    private static long[] Longs(JsonElement c, string name) => c.GetProperty(name).EnumerateArray().Select(e => e.GetInt64()).ToArray();
}
