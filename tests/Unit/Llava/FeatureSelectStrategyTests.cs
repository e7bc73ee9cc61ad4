using MultiModal.ModelKit;
using MultiModal.Models.Clip;
using MultiModal.Models.Llava;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Llava;

/// <summary>
/// vision_feature_select_strategy as transformers' LLaVA applies it (shared/golden/llava/README.md, step 2): "default"
/// drops the CLS row of the selected hidden state, "full" keeps it (N = patches + 1), and the merged sequence grows by
/// that row. Same weights under both strategies.
/// </summary>
public sealed class FeatureSelectStrategyTests
{
    private static LlavaConfig Config(string strategy) => new()
    {
        VisionConfig = new ClipVisionConfig { HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, ImageSize = 32, PatchSize = 8, ProjectionDim = 16 },
        TextConfig = new LlamaConfig { VocabSize = 1538, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 1, NumAttentionHeads = 4, NumKeyValueHeadsRaw = 2, MaxPositionEmbeddings = 128 },
        ImageTokenIndex = 1536,
        VisionFeatureLayer = -1,
        VisionFeatureSelectStrategy = strategy,
    };

    [Fact]
    public void Full_KeepsTheClsRow_DefaultDropsIt()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        using var withoutCls = new LlavaForConditionalGeneration(Config("default"));
        using var withCls = new LlavaForConditionalGeneration(Config("full"));
        KitWeights.Randomize(withoutCls, seed: 5);
        withCls.load_state_dict(withoutCls.state_dict());
        var pixels = randn([2, 3, 32, 32], generator: new Generator(6));

        var patches = withoutCls.SelectImageFeatures(pixels);
        var all = withCls.SelectImageFeatures(pixels);

        Assert.Equal((16, 17), (withoutCls.Config.ImageSequenceLength, withCls.Config.ImageSequenceLength));
        Assert.Equal(new long[] { 2, 17, 32 }, all.shape);
        Assert.True(all.narrow(1, 1, 16).eq(patches).all().item<bool>(), "full's patch rows differ from default's");
    }

    [Fact]
    public void Full_Forward_MergesOneMoreRow()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        using var model = new LlavaForConditionalGeneration(Config("full"));
        KitWeights.Randomize(model, seed: 7);
        var ids = tensor(new long[] { 1, 1536, 5, 6, 7 }, [1, 5]);

        var logits = model.Forward(ids, randn([1, 3, 32, 32], generator: new Generator(8))).Logits;

        Assert.Equal(5 - 1 + 17, logits.shape[1]);
    }
}
