using MultiModal.ModelKit;
using MultiModal.Models.Llava;
using MultiModal.Tests.Testing;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Llava;

/// <summary>
/// The KV cache's growing buffers: a prefill plus cached steps give the logits of one uncached pass over the whole
/// sequence, across buffer growth, and a cache bounded by the caller never grows past its bound. (Grouped-query
/// attention: 4 query heads on 2 KV heads.)
/// </summary>
public sealed class LlamaKvCacheTests
{
    private static readonly LlamaConfig Config = new()
    {
        VocabSize = 97, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4,
        NumKeyValueHeadsRaw = 2, MaxPositionEmbeddings = 256,
    };

    [Theory]
    [InlineData(null, 64, 130)]    // the model's context (256) as bound: 64 positions first (the minimum), then twice what is needed
    [InlineData(70L, 64, 70)]      // bounded by the caller: grows to exactly the bound
    public void PrefillThenSteps_AcrossBufferGrowth_MatchOneUncachedPass(long? maxLength, long capacityAfterPrefill, long finalCapacity)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        using var model = new LlamaForCausalLM(Config);
        KitWeights.Randomize(model, seed: 1);
        var ids = randint(0, Config.VocabSize, [1, 70], generator: new Generator(2));             // (1, 70)
        using var cache = model.NewCache(maxLength);

        model.Forward(ids.narrow(1, 0, 10), cache);                                                  // prefill: 10 positions
        var capacities = new List<long> { cache.Capacity };
        Tensor last = null!;
        for (var t = 10; t < 70; t++)
        {
            last = model.Forward(ids.narrow(1, t, 1), cache)[0, -1];                                 // (V)
            capacities.Add(cache.Capacity);
        }
        var uncached = model.Forward(ids)[0, -1];

        Assert.Equal(70, cache.Length);
        Assert.Equal(capacityAfterPrefill, capacities[0]);
        Assert.Equal(finalCapacity, capacities[^1]);
        TensorAssert.Close(uncached, last, atol: 1e-5, rtol: 1e-4, what: "cached vs uncached logits");
        Assert.Equal((70L, 70L), (cache.Key(1).shape[2], cache.Value(1).shape[2]));
    }
}
