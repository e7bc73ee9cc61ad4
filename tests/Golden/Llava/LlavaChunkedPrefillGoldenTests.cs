using System.Text.Json;
using MultiModal.Models.Llava;
using MultiModal.Models.Llava.Generation;
using MultiModal.Tests.Testing;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Llava;

/// <summary>
/// Chunked prefills (the images, then the merged prompt a chunk at a time, between other generations' decode steps)
/// against the same transformers 4.37.2 goldens as a whole prefill: the same greedy ids and first-step logits.
/// </summary>
public sealed class LlavaChunkedPrefillGoldenTests : IClassFixture<LlavaModelGoldenTests.TinyLlava>
{
    private readonly LlavaModelGoldenTests.TinyLlava _llava;
    private readonly LlamaTokenizer _tokenizer = LlamaTokenizer.Load(LlavaModelGoldenTests.TinyLlava.Folder);
    private static readonly string[] Questions = ["What is in this picture?", "Describe the image in one sentence.", "What color is the triangle?"];

    public LlavaChunkedPrefillGoldenTests(LlavaModelGoldenTests.TinyLlava llava) => _llava = llava;

    private JsonElement Generation(int index) => _llava.Json.GetProperty("generation")[index];
    private int[] GoldenIds(int index) => Generation(index).GetProperty("new_token_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
    private int MergedLength(int index) => Generation(index).GetProperty("merged_prompt_length").GetInt32();

    // Units the vision tower of one image takes for a chunk size: its layers up to the feature layer, a few at a time.
    private int VisionUnits(int chunk)
    {
        var perUnit = _llava.Model.VisionLayersWorth(chunk, images: 1);
        return (_llava.Model.VisionFeatureLayerIndex + perUnit - 1) / perUnit;
    }

    private LlavaGenerator Generator() =>
        new(_llava.Model, _tokenizer, GenerationConfigFile.Load(LlavaModelGoldenTests.TinyLlava.Folder, _tokenizer.EosTokenId).EosTokenIds);

    private GenerationSequence Start(LlavaGenerator generator, int index, int? chunk, int maxNewTokens = 20,
        Action<GenerationUpdate>? onUpdate = null, CancellationToken cancellationToken = default) =>
        generator.Start(_tokenizer.Encode(LlavaPrompt.Build(Questions[index])), _llava.Golden[$"generate.{index}.pixel_values"],
            new GenerationOptions { MaxNewTokens = maxNewTokens }, onUpdate, cancellationToken, chunk);

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 7)]
    [InlineData(2, 16)]
    [InlineData(0, 1000)]
    public void Step_ChunkedPrefillThenDecode_EqualsTransformersTokenForToken(int index, int chunk)
    {
        using var scope = NewDisposeScope();
        var generator = Generator();
        using var sequence = Start(generator, index, chunk);

        var prefillSteps = 0;
        for (; sequence.IsPrefilling; prefillSteps++)
            generator.Step([sequence]);
        while (!sequence.IsFinished)
            generator.Step([sequence]);

        Assert.Equal(VisionUnits(chunk) + (MergedLength(index) + chunk - 1) / chunk, prefillSteps);   // the tower, then the chunks
        Assert.Equal(GoldenIds(index), sequence.GetResult().TokenIds);
        Assert.Equal(MergedLength(index), sequence.GetResult().Usage.PromptTokens);
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(2, 13)]
    public void PrefillLogits_MergedPromptInChunks_MatchesGoldenFirstStepLogits(int index, int chunk)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        using var cache = _llava.Model.NewCache();
        var embeds = _llava.Model.EmbedPrompt(_llava.Golden[$"generate.{index}.input_ids"], _llava.Golden[$"generate.{index}.pixel_values"]);
        var length = embeds.shape[1];

        Tensor? logits = null;
        for (long done = 0; done < length; done += chunk)
            logits = _llava.Model.PrefillLogits(embeds.narrow(1, done, Math.Min(chunk, length - done)), cache);

        Assert.Equal(MergedLength(index), length);
        Assert.Equal(length, cache.Length);
        TensorAssert.Close(_llava.Golden[$"generate.{index}.step_logits_first3"][0], logits![0], 2e-4, 1e-4, "step 0");
    }

    [Fact]
    public void Step_ChunkedPrefillJoinsARunningGeneration_ThatOneGetsATokenEveryStepAndBothGetGoldenTokens()
    {
        using var scope = NewDisposeScope();
        var generator = Generator();
        var tokensOfA = 0;
        using var a = Start(generator, 0, chunk: null, onUpdate: u => { if (u.TokenId is not null) tokensOfA++; });
        using var b = Start(generator, 1, chunk: 4);

        var stepsWhileBPrefills = 0;
        while (b.IsPrefilling)
        {
            var before = tokensOfA;
            generator.Step([a, b]);
            Assert.Equal(before + 1, tokensOfA);                                        // A's decode step was not held up
            stepsWhileBPrefills++;
        }
        while (!a.IsFinished || !b.IsFinished)
            generator.Step(new[] { a, b }.Where(s => !s.IsFinished).ToList());

        Assert.Equal(VisionUnits(4) + (MergedLength(1) + 3) / 4, stepsWhileBPrefills);
        Assert.Equal(GoldenIds(0), a.GetResult().TokenIds);
        Assert.Equal(GoldenIds(1), b.GetResult().TokenIds);
    }

    [Fact]
    public void Step_CancelledWhilePrefilling_FinishesCancelledWithoutTokensAtTheNextUnit()
    {
        using var scope = NewDisposeScope();
        using var cts = new CancellationTokenSource();
        var generator = Generator();
        using var sequence = Start(generator, 0, chunk: 8, cancellationToken: cts.Token);

        for (var unit = 0; unit < VisionUnits(8) + 1; unit++)                          // the tower and the first chunk
            generator.Step([sequence]);
        cts.Cancel();
        generator.Step([sequence]);

        Assert.False(sequence.IsPrefilling);
        var result = sequence.GetResult();
        Assert.Equal((FinishReason.Cancelled, 0), (result.FinishReason, result.TokenIds.Count));
    }

    [Fact]
    public void Step_OneGenerationsBatchedPassFails_RetriedAloneOnlyThatOneFailsAndTheOthersGetGoldenTokens()
    {
        using var scope = NewDisposeScope();
        var generator = Generator();
        var sequences = Enumerable.Range(0, 3).Select(i => Start(generator, i, chunk: null)).ToArray();
        generator.Step(sequences);
        sequences[2].Dispose();                                     // its KV cache is gone: the batched pass throws

        while (!sequences[0].IsFinished || !sequences[1].IsFinished)
            generator.Step(sequences.Where(s => !s.IsFinished).ToList());

        Assert.NotNull(sequences[2].Error);
        Assert.Equal(GoldenIds(0), sequences[0].GetResult().TokenIds);
        Assert.Equal(GoldenIds(1), sequences[1].GetResult().TokenIds);
        foreach (var s in sequences) s.Dispose();
    }

    [Fact]
    public void KvCacheTruncate_AfterAStep_TheSameStepAgainGivesTheSameLogits()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        using var cache = _llava.Model.NewCache();
        _llava.Model.Forward(_llava.Golden["generate.0.input_ids"], _llava.Golden["generate.0.pixel_values"], cache);
        var length = cache.Length;
        var next = _llava.Golden["generate.0.new_token_ids"].narrow(1, 0, 1);

        var first = _llava.Model.Step(next, [cache]);
        cache.Truncate(length);
        var again = _llava.Model.Step(next, [cache]);

        Assert.Equal(length + 1, cache.Length);
        TensorAssert.Close(first, again, 0, 0, "logits after truncate");
    }
}
