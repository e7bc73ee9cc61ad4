using MultiModal.Models.Clip;
using MultiModal.Models.Weights;
using MultiModal.Tests.Testing;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Diffusion;

/// <summary>SD's text encoder (transformers CLIPTextModel, keys text_model.*) against the tiny pipelines' goldens.</summary>
public sealed class SdTextEncoderGoldenTests(TinySdPipelines pipelines, ITestOutputHelper output) : IClassFixture<TinySdPipelines>
{
    [Theory]
    [InlineData("tiny-sd")]
    [InlineData("tiny-sd2-v")]
    public void EncodePrompt_GoldenIdsWithoutMask_MatchesLastHiddenState(string name)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var golden = pipelines.Golden(name);
        var encoder = pipelines.Models(name).TextEncoder;

        var embeds = encoder.EncodePrompt(golden["text.input_ids"]);
        var pooled = encoder.TextModel.Forward(golden["text.input_ids"], null).PooledOutput;

        output.WriteLine($"{name} text.last_hidden_state max abs diff {DiffAssert.MaxAbs(golden["text.last_hidden_state"], embeds)}");
        output.WriteLine($"{name} text.pooler_output max abs diff {DiffAssert.MaxAbs(golden["text.pooler_output"], pooled)}");
        TensorAssert.Close(golden["text.last_hidden_state"], embeds, TinySdPipelines.Atol, TinySdPipelines.Rtol, "text.last_hidden_state");
        TensorAssert.Close(golden["text.pooler_output"], pooled, TinySdPipelines.Atol, TinySdPipelines.Rtol, "text.pooler_output");
    }

    [Fact]
    public void EncodePrompt_ClipSkip_IsEarlierLayerThroughFinalLayerNorm()
    {
        // tiny-clip's golden has every layer's hidden state (transformers 4.36); clip skip k must equal
        // final_layer_norm(hidden_states[-(k + 1)]), as diffusers' encode_prompt computes it.
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var folder = TestPaths.Fixture("tiny-clip", "model");
        var config = ClipConfig.Load(Path.Combine(folder, "config.json")).TextConfig;
        var checkpoint = SafeTensorsCheckpoint.Open(folder);
        using var encoder = new ClipTextModel(config);
        StateDictLoader.LoadStrict("CLIPTextModel", encoder, checkpoint, ignore: key => !key.StartsWith("text_model.", StringComparison.Ordinal));
        encoder.eval();
        var golden = new GoldenTensors(TestPaths.Fixture("tiny-clip", "golden.safetensors"));
        var hidden = golden["text_hidden_states"];                                   // (L + 1, B, T, C)
        var weight = checkpoint.Load("text_model.final_layer_norm.weight");
        var bias = checkpoint.Load("text_model.final_layer_norm.bias");

        for (var clipSkip = 1; clipSkip < config.NumHiddenLayers; clipSkip++)
        {
            var expected = nn.functional.layer_norm(hidden[hidden.shape[0] - 1 - clipSkip], [config.HiddenSize], weight, bias, config.LayerNormEps);
            var actual = encoder.EncodePrompt(golden["input_ids"], golden["attention_mask"], clipSkip);
            TensorAssert.Close(expected, actual, TinySdPipelines.Atol, TinySdPipelines.Rtol, $"clip skip {clipSkip}");
        }
        TensorAssert.Close(golden["text_last_hidden_state"], encoder.EncodePrompt(golden["input_ids"], golden["attention_mask"]),
            TinySdPipelines.Atol, TinySdPipelines.Rtol, "clip skip 0");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3)]
    public void EncodePrompt_ClipSkipOutOfRange_Throws(int clipSkip)
    {
        var encoder = pipelines.Models("tiny-sd").TextEncoder;                        // 3 layers
        using var ids = zeros(1, 77, dtype: ScalarType.Int64);

        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.EncodePrompt(ids, clipSkip: clipSkip));
    }
}
