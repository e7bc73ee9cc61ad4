using MultiModal.ModelKit;
using MultiModal.Models.Clip;
using MultiModal.Models.Llava;
using MultiModal.Models.Llava.Generation;
using MultiModal.Tests.Testing;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Llava;

/// <summary>
/// Chunked prefill on a random LLaVA whose vision tower is deep enough (6 layers, features from the 5th) to run in
/// several units: the units give the same vision features (bit for bit), the same first-token logits and the same
/// greedy tokens as a whole prefill. (The golden tiny model's tower has 2 layers, one unit; its chunked tests are in
/// tests/Golden/Llava.)
/// </summary>
public sealed class ChunkedPrefillTests : IDisposable
{
    private static readonly LlavaConfig Config = new()
    {
        VisionConfig = new ClipVisionConfig { HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 6, NumAttentionHeads = 4, ImageSize = 32, PatchSize = 8, ProjectionDim = 32 },
        TextConfig = new LlamaConfig
        {
            VocabSize = 1538, HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 4,
            NumKeyValueHeadsRaw = 2, MaxPositionEmbeddings = 256,
        },
        ImageTokenIndex = 1536,
    };

    private readonly LlavaForConditionalGeneration _model = new(Config);
    private readonly LlamaTokenizer _tokenizer = LlamaTokenizer.Load(TestPaths.Fixture("llava", "tiny-llava-a"));
    private readonly Tensor _pixels = randn([1, 3, 32, 32], generator: new Generator(4)).DetachFromDisposeScope();

    public ChunkedPrefillTests() => KitWeights.Randomize(_model, seed: 3);

    private int[] PromptIds => _tokenizer.Encode(LlavaPrompt.Build("What is in this picture?"));

    [Fact]
    public void VisionLayersWorth_GrowsWithTheChunkAndShrinksWithImages_BetweenOneLayerAndAll()
    {
        Assert.Equal(5, _model.VisionFeatureLayerIndex);                                          // layer −2 of 6
        Assert.Equal(1, _model.VisionLayersWorth(1, images: 1));
        Assert.Equal(6, _model.VisionLayersWorth(int.MaxValue, images: 1));
        var some = _model.VisionLayersWorth(32, images: 1);
        Assert.InRange(some, 2, 4);                                                              // a few layers: several units
        Assert.True(_model.VisionLayersWorth(64, images: 1) >= some);
        Assert.True(_model.VisionLayersWorth(32, images: 2) < some);
    }

    [Fact]
    public void VisionTowerInUnits_SameSelectedFeaturesBitForBit()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var whole = _model.SelectImageFeatures(_pixels);

        var hidden = _model.VisionEmbed(_pixels);
        for (var done = 0; done < _model.VisionFeatureLayerIndex; done += 2)
            hidden = _model.VisionTower.ForwardEncoderLayers(hidden, done, Math.Min(2, _model.VisionFeatureLayerIndex - done));
        var units = _model.SelectFeatures(hidden);

        Assert.Equal(whole.shape, units.shape);
        Assert.True(whole.eq(units).all().item<bool>());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(32)]
    public void Start_ChunkedPrefill_SameGreedyTokensAsAWholePrefillInTheExpectedNumberOfSteps(int chunk)
    {
        using var scope = NewDisposeScope();
        var generator = new LlavaGenerator(_model, _tokenizer, [2]);
        var options = new GenerationOptions { MaxNewTokens = 6 };
        var whole = generator.Generate(PromptIds, _pixels, options);

        using var sequence = generator.Start(PromptIds, _pixels, options, prefillChunkTokens: chunk);
        var units = 0;
        for (; sequence.IsPrefilling; units++)
            generator.Step([sequence]);
        while (!sequence.IsFinished)
            generator.Step([sequence]);

        var perUnit = _model.VisionLayersWorth(chunk, images: 1);
        var mergedLength = PromptIds.Length - 1 + Config.ImageSequenceLength;
        Assert.Equal((5 + perUnit - 1) / perUnit + (mergedLength + chunk - 1) / chunk, units);
        Assert.Equal(6, whole.TokenIds.Count);                                                   // no early EOS: six tokens compared
        Assert.Equal(whole.TokenIds, sequence.GetResult().TokenIds);
    }

    [Fact]
    public void PrefillLogits_InChunksAfterUnitsOfTheTower_CloseToOneForward()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var ids = tensor(PromptIds.Select(i => (long)i).ToArray()).unsqueeze(0);
        using var wholeCache = _model.NewCache();
        var expected = _model.Forward(ids, _pixels, wholeCache).Logits[.., -1];                     // (1, V)

        using var cache = _model.NewCache();
        var embeds = _model.EmbedPrompt(ids, _pixels);
        Tensor logits = null!;
        for (long done = 0; done < embeds.shape[1]; done += 7)
            logits = _model.PrefillLogits(embeds.narrow(1, done, Math.Min(7, embeds.shape[1] - done)), cache);

        Assert.Equal(wholeCache.Length, cache.Length);
        TensorAssert.Close(expected, logits, 1e-5, 1e-5, "last-position logits");
    }

    public void Dispose()
    {
        _model.Dispose();
        _pixels.Dispose();
    }
}
