using System.Text.Json;
using MultiModal.Models.Errors;
using MultiModal.Models.Llava;
using MultiModal.Models.Llava.Generation;
using MultiModal.Tests.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Llava;

/// <summary>
/// Generation with tiny-llava-a against transformers 4.37.2 (tiny-llava-a-golden): greedy ids token for token (the
/// smallest top-1/top-2 margin is 0.0085, far above float32 error), the first step logits (atol 2e-4, rtol 1e-4), and
/// the logits processors/warpers (atol 1e-5, the set of -inf entries exact).
/// </summary>
public sealed class LlavaGenerationGoldenTests : IClassFixture<LlavaModelGoldenTests.TinyLlava>
{
    private readonly LlavaModelGoldenTests.TinyLlava _llava;
    private readonly LlamaTokenizer _tokenizer = LlamaTokenizer.Load(LlavaModelGoldenTests.TinyLlava.Folder);

    public LlavaGenerationGoldenTests(LlavaModelGoldenTests.TinyLlava llava) => _llava = llava;

    private JsonElement Generation(int index) => _llava.Json.GetProperty("generation")[index];
    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
    private LlavaGenerator Generator(IReadOnlyCollection<int>? eos = null) =>
        new(_llava.Model, _tokenizer, eos ?? GenerationConfigFile.Load(LlavaModelGoldenTests.TinyLlava.Folder, _tokenizer.EosTokenId).EosTokenIds);

    [Theory]
    [InlineData(0, "What is in this picture?")]
    [InlineData(1, "Describe the image in one sentence.")]
    [InlineData(2, "What color is the triangle?")]
    public void Generate_GoldenPromptGreedy_EqualsTransformersTokenForToken(int index, string question)
    {
        using var scope = NewDisposeScope();
        var golden = Generation(index);
        var prompt = LlavaPrompt.Build(question);
        var updates = new List<GenerationUpdate>();

        var result = Generator().Generate(prompt, _llava.Golden[$"generate.{index}.pixel_values"], new GenerationOptions { MaxNewTokens = 20 }, updates.Add);

        Assert.Equal(golden.GetProperty("prompt").GetString(), prompt);
        Assert.Equal(Ints(golden.GetProperty("input_ids")), _tokenizer.Encode(prompt));
        Assert.Equal(Ints(golden.GetProperty("new_token_ids")), result.TokenIds);
        Assert.Equal(FinishReason.Length, result.FinishReason);
        Assert.Equal(new GenerationUsage(golden.GetProperty("merged_prompt_length").GetInt32(), 16, 20), result.Usage);
        Assert.Null(result.Seed);
        Assert.Equal(golden.GetProperty("new_text").GetString(), _tokenizer.Decode(result.TokenIds, skipSpecialTokens: false));
        Assert.Equal(_tokenizer.Decode(result.TokenIds, skipSpecialTokens: true), result.Text);
        Assert.Equal(result.Text, string.Concat(updates.Select(u => u.TextDelta)));
        Assert.Equal(result.TokenIds, updates.Where(u => u.TokenId is not null).Select(u => u.TokenId!.Value));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void PrefillThenCachedSteps_GoldenPrompt_MatchFirstThreeStepLogits(int index)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        using var cache = _llava.Model.NewCache();
        var expected = _llava.Golden[$"generate.{index}.step_logits_first3"];
        var newIds = _llava.Golden[$"generate.{index}.new_token_ids"];

        var logits = _llava.Model.Forward(_llava.Golden[$"generate.{index}.input_ids"], _llava.Golden[$"generate.{index}.pixel_values"], cache).Logits[.., -1];
        TensorAssert.Close(expected[0], logits[0], 2e-4, 1e-4, "step 0");
        for (var step = 1; step < 3; step++)
        {
            logits = _llava.Model.Forward(newIds.narrow(1, step - 1, 1), null, cache).Logits[.., -1];
            TensorAssert.Close(expected[step], logits[0], 2e-4, 1e-4, $"step {step}");
        }
    }

    [Fact]
    public void Step_ThreeGoldenPromptsOnRaggedCaches_MatchEachPromptsStepLogits()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var caches = Enumerable.Range(0, 3).Select(_ => _llava.Model.NewCache()).ToArray();
        for (var i = 0; i < 3; i++)                                                     // prompts of different lengths
            _llava.Model.Forward(_llava.Golden[$"generate.{i}.input_ids"], _llava.Golden[$"generate.{i}.pixel_values"], caches[i]);
        Assert.True(caches.Select(c => c.Length).Distinct().Count() > 1, "the prompts should give caches of different lengths");

        var firstNew = cat(Enumerable.Range(0, 3).Select(i => _llava.Golden[$"generate.{i}.new_token_ids"].narrow(1, 0, 1)).ToArray(), dim: 0);   // (3, 1)
        var logits = _llava.Model.Step(firstNew, caches)[.., -1];                        // (3, V)

        for (var i = 0; i < 3; i++)
            TensorAssert.Close(_llava.Golden[$"generate.{i}.step_logits_first3"][1], logits[i], 2e-4, 1e-4, $"prompt {i}");
        foreach (var cache in caches) cache.Dispose();
    }

    [Fact]
    public void Step_GenerationsJoiningAndLeavingTheBatch_EachEqualsTransformersTokenForToken()
    {
        using var scope = NewDisposeScope();
        var generator = Generator();
        string[] questions = ["What is in this picture?", "Describe the image in one sentence.", "What color is the triangle?"];
        int[] maxNewTokens = [20, 9, 14];
        GenerationSequence Start(int i) => generator.Start(_tokenizer.Encode(LlavaPrompt.Build(questions[i])),
            _llava.Golden[$"generate.{i}.pixel_values"], new GenerationOptions { MaxNewTokens = maxNewTokens[i] });

        var sequences = new List<GenerationSequence> { Start(0), Start(1) };
        var widths = new List<int>();
        for (var step = 0; sequences.Any(s => !s.IsFinished); step++)
        {
            if (step == 4) sequences.Add(Start(2));                                     // joins after four steps
            var running = sequences.Where(s => !s.IsFinished).ToList();
            widths.Add(running.Count);
            generator.Step(running);
        }

        for (var i = 0; i < 3; i++)
        {
            var golden = Ints(Generation(i).GetProperty("new_token_ids")).Take(maxNewTokens[i]);
            Assert.Equal(golden, sequences[i].Result!.TokenIds);
            Assert.Equal(FinishReason.Length, sequences[i].Result!.FinishReason);
            sequences[i].Dispose();
        }
        Assert.Equal(3, widths.Max());                                                  // all three stepped together
        Assert.Equal(1, widths[^1]);                                                    // the longest finished alone
    }

    [Fact]
    public void Step_SeededSamplingTogether_EqualsEachGeneratedAlone()
    {
        using var scope = NewDisposeScope();
        var generator = Generator();
        var prompt = _tokenizer.Encode(LlavaPrompt.Build("What is in this picture?"));
        var pixels = _llava.Golden["generate.0.pixel_values"];
        GenerationOptions Options(long seed) => new() { MaxNewTokens = 12, DoSample = true, Temperature = 0.9, TopK = 20, TopP = 0.95, Seed = seed };

        var alone = new[] { 11L, 12L }.Select(seed => generator.Generate(prompt, pixels, Options(seed))).ToArray();
        var together = new[] { 11L, 12L }.Select(seed => generator.Start(prompt, pixels, Options(seed))).ToArray();
        while (together.Any(s => !s.IsFinished))
            generator.Step(together.Where(s => !s.IsFinished).ToList());

        Assert.NotEqual(alone[0].TokenIds, alone[1].TokenIds);                          // the seeds matter
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(alone[i].TokenIds, together[i].Result!.TokenIds);
            Assert.Equal(alone[i].Text, together[i].Result!.Text);
            together[i].Dispose();
        }
    }

    [Fact]
    public void Step_OneGenerationsScoresTurnNaN_OnlyThatOneFailsAndTheOtherGetsItsGoldenTokens()
    {
        using var scope = NewDisposeScope();
        using var model = LlavaCheckpoint.Load(LlavaModelGoldenTests.TinyLlava.Folder, CPU, ScalarType.Float32);   // poisoned below
        var generator = new LlavaGenerator(model, _tokenizer, GenerationConfigFile.Load(LlavaModelGoldenTests.TinyLlava.Folder, _tokenizer.EosTokenId).EosTokenIds);
        var tokensOfA = new List<int>();
        using var a = generator.Start(_tokenizer.Encode(LlavaPrompt.Build("What is in this picture?")), _llava.Golden["generate.0.pixel_values"],
            new GenerationOptions { MaxNewTokens = 10, DoSample = true, Seed = 5 }, u => { if (u.TokenId is { } id) tokensOfA.Add(id); });
        using var b = generator.Start(_tokenizer.Encode(LlavaPrompt.Build("Describe the image in one sentence.")), _llava.Golden["generate.1.pixel_values"],
            new GenerationOptions { MaxNewTokens = 20 });
        var goldenB = Ints(Generation(1).GetProperty("new_token_ids"));
        Assert.DoesNotContain(tokensOfA[0], goldenB);                                   // only A ever feeds the poisoned token

        // A's next input now embeds as NaN: only A's row of the batched step is non-finite, and sampling from it throws.
        using (no_grad())
            model.LanguageModel.Model.EmbedWeight[tokensOfA[0]].fill_(float.NaN);
        while (!b.IsFinished)
            generator.Step(new[] { a, b }.Where(s => !s.IsFinished).ToList());

        Assert.NotNull(a.Error);
        Assert.Null(a.Result);
        Assert.ThrowsAny<Exception>(() => a.GetResult());
        Assert.Equal(goldenB, b.GetResult().TokenIds);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void LogitsProcessors_GoldenSetting_MatchTransformersProcessorsAndWarpers(int index)
    {
        using var scope = NewDisposeScope();
        var setting = _llava.Json.GetProperty("sampling")[index].GetProperty("setting");
        var options = new GenerationOptions
        {
            DoSample = setting.GetProperty("do_sample").GetBoolean(),
            Temperature = setting.GetProperty("temperature").GetDouble(),
            TopK = setting.GetProperty("top_k").GetInt32(),
            TopP = setting.TryGetProperty("top_p", out var p) ? p.GetDouble() : 1.0,
            RepetitionPenalty = setting.TryGetProperty("repetition_penalty", out var r) ? r.GetDouble() : 1.0,
        };
        var processors = LogitsProcessorList.ForProcessors(options);
        var warpers = LogitsProcessorList.ForWarpers(options);
        var ids = _llava.Golden["sampling.input_ids"];

        var afterProcessors = processors.Process(ids, _llava.Golden["sampling.scores_in"]);
        var afterWarpers = warpers.Process(ids, afterProcessors);

        var sample = _llava.Json.GetProperty("sampling")[index];
        Assert.Equal(sample.GetProperty("processors").EnumerateArray().Select(e => e.GetString()), processors.Processors.Select(x => x.GetType().Name));
        Assert.Equal(sample.GetProperty("warpers").EnumerateArray().Select(e => e.GetProperty("class").GetString()), warpers.Processors.Select(x => x.GetType().Name));
        TensorAssert.Close(_llava.Golden[$"sampling.{index}.after_processors"], afterProcessors, 1e-5, 0, "after_processors");
        var expected = _llava.Golden[$"sampling.{index}.after_warpers"];
        Assert.Equal(expected.isinf().data<bool>().ToArray(), afterWarpers.isinf().data<bool>().ToArray());
        var finite = expected.isfinite();
        TensorAssert.Close(expected.masked_select(finite), afterWarpers.masked_select(finite), 1e-5, 0, "after_warpers");
        // softmax moves p by p·(δ_i − Σ p·δ) for logit errors δ: the warpers' 1e-5 (README) becomes about rtol 1e-5 on p.
        TensorAssert.Close(_llava.Golden[$"sampling.{index}.probs"], afterWarpers.softmax(-1), 1e-6, 1e-5, "probs");
        Assert.Equal(sample.GetProperty("rows").EnumerateArray().Select(row => row.GetProperty("num_kept").GetInt32()),
            Enumerable.Range(0, 2).Select(row => (int)afterWarpers[row].isfinite().sum().item<long>()));
    }

    [Fact]
    public void Generate_SameSeedTwice_SameTokensAndOnlyTopKTokens()
    {
        using var scope = NewDisposeScope();
        var options = new GenerationOptions { MaxNewTokens = 12, DoSample = true, Temperature = 1.5, TopK = 3, Seed = 42 };
        var pixels = _llava.Golden["generate.0.pixel_values"];
        var prompt = LlavaPrompt.Build("What is in this picture?");

        var first = Generator().Generate(prompt, pixels, options);
        var second = Generator().Generate(prompt, pixels, options);
        var other = Generator().Generate(prompt, pixels, options with { Seed = 7 });

        Assert.Equal(first.TokenIds, second.TokenIds);
        Assert.Equal(42, first.Seed);
        Assert.NotEqual(first.TokenIds, other.TokenIds);
        // Replaying the sampled ids through the model: each must be among that step's 3 largest logits.
        using var _ = inference_mode();
        using var cache = _llava.Model.NewCache();
        var logits = _llava.Model.Forward(tensor(_tokenizer.Encode(prompt).Select(i => (long)i).ToArray()).unsqueeze(0), pixels, cache).Logits[0, -1];
        foreach (var id in first.TokenIds)
        {
            Assert.Contains((long)id, logits.topk(3).Item2.data<long>().ToArray());
            logits = _llava.Model.Forward(tensor(new long[] { id }).view(1, 1), null, cache).Logits[0, -1];
        }
    }

    [Fact]
    public void Generate_StopStringInOutput_CutsBeforeItAndFinishesWithStop()
    {
        using var scope = NewDisposeScope();
        var updates = new List<GenerationUpdate>();

        // Greedy text starts "7*ugeugeuge…": "geu" first completes at the 4th token.
        var result = Generator().Generate(LlavaPrompt.Build("What is in this picture?"), _llava.Golden["generate.0.pixel_values"],
            new GenerationOptions { MaxNewTokens = 20, StopStrings = ["geu"] }, updates.Add);

        Assert.Equal(FinishReason.Stop, result.FinishReason);
        Assert.Equal("7*u", result.Text);
        Assert.Equal([58, 45, 503, 503], result.TokenIds);
        Assert.Equal(result.Text, string.Concat(updates.Select(u => u.TextDelta)));
    }

    [Fact]
    public void Generate_EosTokenGenerated_StopsThereWithoutItsText()
    {
        using var scope = NewDisposeScope();

        var result = Generator(eos: [503]).Generate(LlavaPrompt.Build("What is in this picture?"), _llava.Golden["generate.0.pixel_values"],
            new GenerationOptions { MaxNewTokens = 20 });

        Assert.Equal(FinishReason.Stop, result.FinishReason);
        Assert.Equal([58, 45, 503], result.TokenIds);
        Assert.Equal("7*", result.Text);
        Assert.Equal(3, result.Usage.CompletionTokens);
    }

    [Fact]
    public void Generate_CancelledAfterThreeTokens_ReturnsThemWithCancelled()
    {
        using var scope = NewDisposeScope();
        using var cts = new CancellationTokenSource();
        var seen = 0;

        var result = Generator().Generate(LlavaPrompt.Build("What is in this picture?"), _llava.Golden["generate.0.pixel_values"],
            new GenerationOptions { MaxNewTokens = 20 }, u => { if (++seen == 3) cts.Cancel(); }, cts.Token);

        Assert.Equal(FinishReason.Cancelled, result.FinishReason);
        Assert.Equal([58, 45, 503], result.TokenIds);
    }

    [Fact]
    public void Generate_PromptLongerThanTheContext_ThrowsPromptTooLong()
    {
        var ids = Enumerable.Repeat(_tokenizer.TokenToId("▁the")!.Value, 300).Prepend(1).ToArray();

        var ex = Assert.Throws<InputRejectedException>(() => Generator().Generate(ids, null, new GenerationOptions()));

        Assert.Equal(InputRejection.PromptTooLong, ex.Kind);
    }

    [Fact]
    public void Generate_SamplingWithZeroTemperature_ThrowsInvalidNamingTheField()
    {
        var ex = Assert.Throws<InputRejectedException>(() =>
            Generator().Generate([1, 2], null, new GenerationOptions { DoSample = true, Temperature = 0 }));

        Assert.Equal(("temperature", InputRejection.Invalid), (ex.Field, ex.Kind));
    }

    [Fact]
    public void Load_TinyLlavaFolder_GeneratesTheGoldenIds()
    {
        using var scope = NewDisposeScope();
        var generator = LlavaGenerator.Load(LlavaModelGoldenTests.TinyLlava.Folder, CPU, ScalarType.Float32);

        var result = generator.Generate(LlavaPrompt.Build("What color is the triangle?"), _llava.Golden["generate.2.pixel_values"],
            new GenerationOptions { MaxNewTokens = 20 });

        Assert.Equal([2], generator.EosTokenIds);
        Assert.Equal(Ints(Generation(2).GetProperty("new_token_ids")), result.TokenIds);
        generator.Model.Dispose();
    }

    [Fact]
    public void Build_TwoTurnsWithImage_FollowsTheLlava15Format()
    {
        var prompt = LlavaPrompt.Build([new LlavaTurn("What is it?", "A cat."), new LlavaTurn("What color?", null)]);

        Assert.Equal("USER: <image>\nWhat is it? ASSISTANT: A cat.</s>USER: What color? ASSISTANT:", prompt);
    }
}
