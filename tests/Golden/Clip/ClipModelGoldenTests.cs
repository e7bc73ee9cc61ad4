using MultiModal.Models.Clip;
using MultiModal.Models.Layers;
using MultiModal.Models.Runtime;
using MultiModal.Tests.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Clip;

/// <summary>
/// tiny-clip (transformers 4.36 CLIPModel) given the golden inputs must reproduce the golden outputs.
/// Tolerance: atol = rtol = 1e-4 and embedding cosine ≥ 0.99999, from tiny-clip/README.md ("another BLAS/libtorch
/// reorders sums"; fp32 vs fp64 of the reference itself differs by 1.6e-6).
/// </summary>
public sealed class ClipModelGoldenTests : IClassFixture<ClipModelGoldenTests.TinyClip>
{
    private const double Atol = 1e-4, Rtol = 1e-4, MinCosine = 0.99999;
    private readonly TinyClip _clip;

    public ClipModelGoldenTests(TinyClip clip) => _clip = clip;

    public sealed class TinyClip : IDisposable
    {
        public ClipModel Model { get; } = ClipCheckpoint.Load(TestPaths.Fixture("tiny-clip", "model"), CPU, ScalarType.Float32);
        public GoldenTensors Golden { get; } = new(TestPaths.Fixture("tiny-clip", "golden.safetensors"));
        public void Dispose() => Model.Dispose();
    }

    [Fact]
    public void VisionTower_GoldenPixelValues_MatchesEveryLayer()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var output = _clip.Model.VisionModel.Forward(_clip.Golden["pixel_values"], outputHiddenStates: true);

        var hidden = _clip.Golden["vision_hidden_states"];
        for (var i = 0; i < hidden.shape[0]; i++)
            TensorAssert.Close(hidden[i], output.HiddenStates![i], Atol, Rtol, $"vision_hidden_states[{i}]");
        TensorAssert.Close(_clip.Golden["vision_last_hidden_state"], output.LastHiddenState, Atol, Rtol, "vision_last_hidden_state");
        TensorAssert.Close(_clip.Golden["vision_pooler_output"], output.PooledOutput, Atol, Rtol, "vision_pooler_output");
    }

    [Fact]
    public void TextTower_GoldenIdsWithMask_MatchesEveryLayerAndPooledOutput()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var output = _clip.Model.TextModel.Forward(_clip.Golden["input_ids"], _clip.Golden["attention_mask"], outputHiddenStates: true);

        var hidden = _clip.Golden["text_hidden_states"];
        for (var i = 0; i < hidden.shape[0]; i++)
            TensorAssert.Close(hidden[i], output.HiddenStates![i], Atol, Rtol, $"text_hidden_states[{i}]");
        TensorAssert.Close(_clip.Golden["text_last_hidden_state"], output.LastHiddenState, Atol, Rtol, "text_last_hidden_state");
        TensorAssert.Close(_clip.Golden["text_pooler_output"], output.PooledOutput, Atol, Rtol, "text_pooler_output");
    }

    [Fact]
    public void TextTower_NoAttentionMask_MatchesCausalOnlyReference()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var output = _clip.Model.TextModel.Forward(_clip.Golden["input_ids"], null);

        TensorAssert.Close(_clip.Golden["text_last_hidden_state_no_mask"], output.LastHiddenState, Atol, Rtol, "text_last_hidden_state_no_mask");
    }

    [Fact]
    public void Features_GoldenInputs_MatchGetTextAndImageFeatures()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var image = _clip.Model.GetImageFeatures(_clip.Golden["pixel_values"]);
        var text = _clip.Model.GetTextFeatures(_clip.Golden["input_ids"], _clip.Golden["attention_mask"]);

        TensorAssert.Close(_clip.Golden["image_embeds"], image, Atol, Rtol, "image_embeds");
        TensorAssert.Close(_clip.Golden["text_embeds"], text, Atol, Rtol, "text_embeds");
        TensorAssert.RowCosineAtLeast(_clip.Golden["image_embeds"], image, MinCosine, "image_embeds");
        TensorAssert.RowCosineAtLeast(_clip.Golden["text_embeds"], text, MinCosine, "text_embeds");
    }

    [Fact]
    public void Logits_GoldenInputs_MatchClipModelForward()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var image = nn.functional.normalize(_clip.Model.GetImageFeatures(_clip.Golden["pixel_values"]), dim: -1);
        var text = nn.functional.normalize(_clip.Model.GetTextFeatures(_clip.Golden["input_ids"], _clip.Golden["attention_mask"]), dim: -1);
        var logitsPerImage = image.matmul(text.t()) * _clip.Model.LogitScaleExp();

        Assert.Equal(14.086, _clip.Model.LogitScaleExp(), 3);
        TensorAssert.Close(_clip.Golden["image_embeds_normalized"], image, Atol, Rtol, "image_embeds_normalized");
        TensorAssert.Close(_clip.Golden["text_embeds_normalized"], text, Atol, Rtol, "text_embeds_normalized");
        TensorAssert.Close(_clip.Golden["logits_per_image"], logitsPerImage, Atol, Rtol, "logits_per_image");
        TensorAssert.Close(_clip.Golden["logits_per_text"], logitsPerImage.t(), Atol, Rtol, "logits_per_text");
    }

    [Theory]
    [InlineData(LinearPacking.OneMkl)]
    [InlineData(LinearPacking.Panels)]
    public void Features_ModelPackedForInference_MatchGetTextAndImageFeatures(LinearPacking packing)
    {
        // The serving path: ClipEngine packs the encoders' float32 weights (LinearPackings.Default picks one per CPU).
        using var packed = ClipCheckpoint.Load(TestPaths.Fixture("tiny-clip", "model"), CPU, ScalarType.Float32);
        packed.PackForInference(packing);
        Assert.True(packed.IsPackedForInference, $"{packing} packs every encoder linear");
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var image = packed.GetImageFeatures(_clip.Golden["pixel_values"]);
        var text = packed.GetTextFeatures(_clip.Golden["input_ids"], _clip.Golden["attention_mask"]);

        TensorAssert.Close(_clip.Golden["image_embeds"], image, Atol, Rtol, "image_embeds");
        TensorAssert.Close(_clip.Golden["text_embeds"], text, Atol, Rtol, "text_embeds");
    }

    [Theory]
    [InlineData(LinearPacking.OneMkl)]
    [InlineData(LinearPacking.Panels)]
    public void Features_PackedAgainAfterTraining_UseTheTrainedWeights(LinearPacking packing)
    {
        using var model = ClipCheckpoint.Load(TestPaths.Fixture("tiny-clip", "model"), CPU, ScalarType.Float32);
        model.PackForInference(packing);
        model.train();
        Assert.False(model.IsPackedForInference, "training drops the packs");
        using (no_grad())
            foreach (var (name, weight) in model.named_parameters().Where(p => p.name.Contains("self_attn.")))
                weight.add_(0.01);   // what an optimizer step would do
        model.eval();
        model.PackForInference(packing);
        using var scope = NewDisposeScope();

        // One text: few enough rows for the panels (the golden batch padded to 77 positions has more than 128).
        var ids = _clip.Golden["input_ids"][..1];
        var mask = _clip.Golden["attention_mask"][..1];
        Assert.True(ids.numel() <= PanelPackedMatrix.MaxRows, "the packed products serve this input");
        Tensor packedText, unpackedText;
        using (inference_mode())
            packedText = model.GetTextFeatures(ids, mask);
        using (enable_grad())   // a graph being recorded: every projection goes through its own (trained) weight
            unpackedText = model.GetTextFeatures(ids, mask).detach();

        Assert.True(model.IsPackedForInference);
        TensorAssert.Close(unpackedText, packedText, Atol, Rtol, "text_embeds after training and packing again");
        Assert.False(packedText.allclose(_clip.Golden["text_embeds"][..1], Rtol, Atol), "the trained weights changed the embeddings");
    }

    [Fact]
    public void LogitScale_ModelLoadedInBfloat16_KeepsTheCheckpointsTemperature()
    {
        // bfloat16 would round exp(logit_scale) to 14.0; the reference's 14.086 scales every Classify probability.
        using var bf16 = ClipCheckpoint.Load(TestPaths.Fixture("tiny-clip", "model"), CPU, ScalarType.BFloat16);

        Assert.Equal(14.086, bf16.LogitScaleExp(), 3);
    }

    [Fact]
    public void ImageFeatures_GoldenProcessedImages_MatchReference()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var embeds = _clip.Model.GetImageFeatures(_clip.Golden["images_pixel_values"]);

        TensorAssert.Close(_clip.Golden["images_image_embeds"], embeds, Atol, Rtol, "images_image_embeds");
    }
}
