using MultiModal.ModelKit;
using MultiModal.Models.Clip;
using MultiModal.Tests.Testing;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.ModelKit;

/// <summary>The kits' weights come from their own seed alone, never from torch's process-wide generator.</summary>
public sealed class KitWeightsTests
{
    private static readonly ClipConfig Small = ClipKit.Presets["small"];

    [Fact]
    public async Task Randomize_WhileAnotherThreadDrawsFromTheGlobalGenerator_SameSeedGivesSameWeights()
    {
        using var stop = new CancellationTokenSource();
        var draws = 0;
        var noise = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var t = randn(4096);
                Interlocked.Increment(ref draws);
            }
        });
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref draws) > 0, MultiModal.Tests.Testing.TaskExtensions.DefaultTimeoutSpan));

        var first = RandomizedWeights(seed: 3);
        var second = RandomizedWeights(seed: 3);
        var other = RandomizedWeights(seed: 4);
        stop.Cancel();
        await noise.DefaultTimeout();

        Assert.Equal(first.Keys, second.Keys);
        Assert.All(first, kv => Assert.True(kv.Value.eq(second[kv.Key]).all().item<bool>(), $"{kv.Key} differs for the same seed"));
        Assert.False(first["text_model.embeddings.token_embedding.weight"].eq(other["text_model.embeddings.token_embedding.weight"]).all().item<bool>());
    }

    [Fact]
    public void Randomize_ClipModel_DrawsPyTorchDefaultsWithNormsAroundOneAndZero()
    {
        var w = RandomizedWeights(seed: 0);

        var q = w["text_model.encoder.layers.0.self_attn.q_proj.weight"];            // Linear: U(±1/√fan_in)
        var bound = 1 / Math.Sqrt(Small.TextConfig.HiddenSize);
        Assert.True(q.abs().max().item<float>() <= bound);
        Assert.True(q.abs().max().item<float>() > 0.9 * bound);
        Assert.True(w["text_model.encoder.layers.0.self_attn.q_proj.bias"].abs().max().item<float>() <= bound);

        var patch = w["vision_model.embeddings.patch_embedding.weight"];              // Conv2d: fan_in = 3·32·32
        Assert.True(patch.abs().max().item<float>() <= 1 / Math.Sqrt(3 * 32 * 32));

        var norm = w["vision_model.encoder.layers.1.layer_norm2.weight"];
        Assert.InRange(norm.mean().item<float>(), 0.99, 1.01);
        Assert.InRange(norm.std().item<float>(), 0.01, 0.03);
        Assert.False(w["text_model.final_layer_norm.bias"].eq(0).any().item<bool>());

        Assert.InRange(w["text_model.embeddings.token_embedding.weight"].std().item<float>(), 0.95, 1.05);   // Embedding: N(0, 1)
        Assert.InRange(w["vision_model.embeddings.class_embedding"].std().item<float>(), 0.7, 1.3);           // randn
        Assert.Equal((float)Small.LogitScaleInitValue, w["logit_scale"].item<float>());                     // a constant
    }

    private static Dictionary<string, Tensor> RandomizedWeights(long seed)
    {
        using var model = new ClipModel(Small);
        KitWeights.Randomize(model, seed);
        return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
    }
}
