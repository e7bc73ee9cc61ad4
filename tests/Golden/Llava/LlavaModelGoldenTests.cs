using System.Text.Json;
using MultiModal.Models.Errors;
using MultiModal.Models.Llava;
using MultiModal.Models.Weights;
using MultiModal.Tests.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Llava;

/// <summary>
/// tiny-llava-a (transformers 4.37.2 LlavaForConditionalGeneration, float32) against llava/tiny-llava-a-golden.
/// Tolerances from its README: vision/projector atol = rtol = 1e-4; logits (forward, decoder, KV steps) atol 2e-4,
/// rtol 1e-4; RoPE cos/sin atol 1e-6; positions, masks and ids exact.
/// </summary>
public sealed class LlavaModelGoldenTests : IClassFixture<LlavaModelGoldenTests.TinyLlava>
{
    private const double VisionTol = 1e-4, LogitsAtol = 2e-4, LogitsRtol = 1e-4, RopeAtol = 1e-6;
    private readonly TinyLlava _llava;

    public LlavaModelGoldenTests(TinyLlava llava) => _llava = llava;

    public sealed class TinyLlava : IDisposable
    {
        public static string Folder => TestPaths.Fixture("llava", "tiny-llava-a");
        public LlavaForConditionalGeneration Model { get; } = LlavaCheckpoint.Load(Folder, CPU, ScalarType.Float32);
        public GoldenTensors Golden { get; } = new(TestPaths.Fixture("llava", "tiny-llava-a-golden", "golden.safetensors"));
        public JsonElement Json { get; } =
            JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("llava", "tiny-llava-a-golden", "golden.json"))).RootElement.Clone();
        public void Dispose() => Model.Dispose();
    }

    [Fact]
    public void RotaryEmbedding_HeadDim16_MatchesInvFreqCosSinAndRotatedQk()
    {
        using var scope = NewDisposeScope();
        var rope = _llava.Model.LanguageModel.Model.RotaryEmbedding;
        var positions = arange(16, dtype: ScalarType.Int64).unsqueeze(0);

        var (cos, sin) = rope.CosSin(positions, ScalarType.Float32);
        var (q, k) = LlamaRotaryEmbedding.Apply(_llava.Golden["rope.q_in"], _llava.Golden["rope.k_in"], cos, sin);

        // inv_freq is exact: the same float32 ops on the same integer inputs (bit-equal on AVX-512 and AVX2-capped libtorch).
        TensorAssert.Close(_llava.Golden["rope.inv_freq"], rope.InvFreq(), 0, 0, "inv_freq");
        TensorAssert.Close(_llava.Golden["rope.cos"], cos[0], RopeAtol, 0, "cos");
        TensorAssert.Close(_llava.Golden["rope.sin"], sin[0], RopeAtol, 0, "sin");
        // q·cos + rotate(q)·sin with the README's cos/sin atol 1e-6 and |q|, |k| of a few units: ≤ 1e-5 plus float32 rounding.
        TensorAssert.Close(_llava.Golden["rope.q_out"], q, 1e-5, 1e-5, "q_out");
        TensorAssert.Close(_llava.Golden["rope.k_out"], k, 1e-5, 1e-5, "k_out");
    }

    [Fact]
    public void VisionPath_GoldenPixelValues_MatchesHiddenStatesSelectedFeaturesAndProjector()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var pixels = _llava.Golden["vision.pixel_values"];

        var output = _llava.Model.VisionTower.Forward(pixels, outputHiddenStates: true);
        var selected = _llava.Model.SelectImageFeatures(pixels);
        var linear1 = _llava.Model.MultiModalProjector.Linear1(selected);
        var projected = _llava.Model.GetImageFeatures(pixels);

        for (var i = 0; i < 3; i++)
            TensorAssert.Close(_llava.Golden[$"vision.hidden_states.{i}"], output.HiddenStates![i], VisionTol, VisionTol, $"hidden_states[{i}]");
        TensorAssert.Close(_llava.Golden["vision.pooler_output"], output.PooledOutput, VisionTol, VisionTol, "pooler_output");
        TensorAssert.Close(_llava.Golden["vision.selected_features"], selected, VisionTol, VisionTol, "selected_features");
        TensorAssert.Close(_llava.Golden["vision.projector_linear_1"], linear1, VisionTol, VisionTol, "projector_linear_1");
        TensorAssert.Close(_llava.Golden["vision.projector_output"], projected, VisionTol, VisionTol, "projector_output");
    }

    [Fact]
    public void Forward_GoldenPromptAndImage_MatchesMergedInputsHiddenStatesAndLogits()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();

        var output = _llava.Model.Forward(_llava.Golden["forward.input_ids"], _llava.Golden["vision.pixel_values"], outputHiddenStates: true);

        TensorAssert.Close(_llava.Golden["forward.merged_inputs_embeds"], output.Merged!.InputsEmbeds, VisionTol, VisionTol, "merged_inputs_embeds");
        Assert.Equal(_llava.Golden["forward.merged_position_ids"].data<long>().ToArray(), output.Merged.PositionIds.data<long>().ToArray());
        Assert.Equal(_llava.Golden["forward.merged_attention_mask"].data<long>().ToArray(), output.Merged.AttentionMask.data<long>().ToArray());
        for (var i = 0; i < 3; i++)
            TensorAssert.Close(_llava.Golden[$"forward.decoder_hidden_states.{i}"], output.DecoderHiddenStates![i], VisionTol, VisionTol, $"decoder_hidden_states[{i}]");
        TensorAssert.Close(_llava.Golden["forward.logits"], output.Logits, LogitsAtol, LogitsRtol, "logits");
    }

    [Fact]
    public void Forward_ImageTokenRepeatedPerRow_GivesTheSameLogitsAsOneImageToken()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var expandedIds = _llava.Json.GetProperty("forward").GetProperty("expanded_input_ids_newer_transformers_style")
            .EnumerateArray().Select(e => e.GetInt64()).ToArray();

        var output = _llava.Model.Forward(tensor(expandedIds).unsqueeze(0), _llava.Golden["vision.pixel_values"]);

        TensorAssert.Close(_llava.Golden["forward.logits"], output.Logits, LogitsAtol, LogitsRtol, "logits");
    }

    [Fact]
    public void Forward_TwoImagesForOneImageToken_ThrowsInputRejected()
    {
        using var scope = NewDisposeScope();
        var pixels = _llava.Golden["vision.pixel_values"];

        var ex = Assert.Throws<InputRejectedException>(() => _llava.Model.Forward(_llava.Golden["forward.input_ids"], cat([pixels, pixels], 0)));

        Assert.Equal(InputRejection.Invalid, ex.Kind);
        Assert.Contains("1 image tokens but 2 image(s)", ex.Message);
    }

    [Fact]
    public void Forward_CachedStepFeedingTheImageTokenId_EmbedsItsRowLikeAnyOtherToken()
    {
        // transformers 4.37 merges only when input_ids has more than one position; a generated <image> id fed back in
        // a cached decode step is embedded with its own row (sampling can pick it: it is inside the vocabulary).
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        using var llavaCache = _llava.Model.NewCache();
        using var decoderCache = _llava.Model.NewCache();
        var imageId = tensor(new long[] { _llava.Model.Config.ImageTokenIndex }).view(1, 1);
        _llava.Model.Forward(_llava.Golden["forward.input_ids"], _llava.Golden["vision.pixel_values"], llavaCache);
        _llava.Model.Forward(_llava.Golden["forward.input_ids"], _llava.Golden["vision.pixel_values"], decoderCache);

        var viaLlava = _llava.Model.Forward(imageId, null, llavaCache).Logits;                              // (1, 1, V)
        var viaDecoder = _llava.Model.LanguageModel.Forward(imageId, decoderCache);                         // (1, 1, V)

        TensorAssert.Close(viaDecoder, viaLlava, 0, 0, "step logits");
        Assert.Throws<InputRejectedException>(() => _llava.Model.Forward(_llava.Golden["forward.input_ids"], null));
    }

    [Fact]
    public void Decoder_TextOnlyPrompt_MatchesPromptLogits()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();

        var logits = _llava.Model.LanguageModel.Forward(_llava.Golden["decoder.prompt_ids"]);

        TensorAssert.Close(_llava.Golden["decoder.prompt_logits"], logits, LogitsAtol, LogitsRtol, "prompt_logits");
    }

    [Fact]
    public void Decoder_KvCacheSingleTokenSteps_MatchCachedKeysValuesAndStepLogits()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        using var cache = _llava.Model.NewCache();
        var fullIds = _llava.Golden["decoder.full_sequence_ids"];
        var promptLength = _llava.Golden["decoder.prompt_ids"].shape[1];

        _llava.Model.LanguageModel.Forward(_llava.Golden["decoder.prompt_ids"], cache);
        foreach (var layer in new[] { 0, 1 })
        {
            TensorAssert.Close(_llava.Golden[$"decoder.kv_after_prompt.layer{layer}.key"], cache.Key(layer), VisionTol, VisionTol, $"layer {layer} key");
            TensorAssert.Close(_llava.Golden[$"decoder.kv_after_prompt.layer{layer}.value"], cache.Value(layer), VisionTol, VisionTol, $"layer {layer} value");
        }
        var noCache = _llava.Golden["decoder.full_sequence_logits"];
        for (var step = 0; step < 3; step++)
        {
            var logits = _llava.Model.LanguageModel.Forward(fullIds.narrow(1, promptLength + step, 1), cache);   // (1, 1, V)

            Assert.Equal(promptLength + step + 1, cache.Length);
            TensorAssert.Close(_llava.Golden[$"decoder.kv_step{step}.logits"], logits[.., 0], LogitsAtol, LogitsRtol, $"kv_step{step}");
            TensorAssert.Close(noCache[.., (int)promptLength + step], logits[.., 0], LogitsAtol, LogitsRtol, $"no-cache position {promptLength + step}");
        }
    }

    [Fact]
    public void Load_CheckpointInNewerTransformersKeyLayout_GivesTheSameLogits()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var folder = Directory.CreateTempSubdirectory("llava-newer-keys-").FullName;
        try
        {
            var source = SafeTensorsCheckpoint.Open(TinyLlava.Folder);
            var renamed = source.Entries.Keys.ToDictionary(
                k => k.StartsWith("language_model.model.") ? "model.language_model." + k["language_model.model.".Length..]
                    : k.StartsWith("language_model.lm_head.") ? "lm_head." + k["language_model.lm_head.".Length..]
                    : "model." + k,
                source.Load);
            SafeTensorsWriter.Write(Path.Combine(folder, "model.safetensors"), renamed);
            File.Copy(Path.Combine(TinyLlava.Folder, "config.json"), Path.Combine(folder, "config.json"));
            using var model = LlavaCheckpoint.Load(folder, CPU, ScalarType.Float32);

            var logits = model.LanguageModel.Forward(_llava.Golden["decoder.prompt_ids"]);

            Assert.Contains("model.language_model.layers.0.self_attn.q_proj.weight", renamed.Keys);
            TensorAssert.Close(_llava.Golden["decoder.prompt_logits"], logits, LogitsAtol, LogitsRtol, "prompt_logits");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
