using MultiModal.Models.Layers;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Layers;

/// <summary>
/// Channels-last memory for the convolutional models: the layout changes, the numbers do not (beyond float32 summation
/// order: both sides are float32 products of the same values, so 1e-5 relative is ample), and what comes out of a block
/// stays channels-last so the next convolution needs no conversion.
/// </summary>
public sealed class ChannelsLastTests
{
    [Fact]
    public void Of_NchwTensor_SameValuesInChannelsLastMemory()
    {
        using var scope = NewDisposeScope();
        var x = randn(2, 5, 3, 4);

        var y = ChannelsLast.Of(x);

        Assert.False(ChannelsLast.Is(x));
        Assert.True(ChannelsLast.Is(y));
        Assert.Equal(x.shape, y.shape);
        Assert.True(x.allclose(y, rtol: 0, atol: 0));
    }

    [Fact]
    public void UseForConvolutions_ResnetThenGroupNormAttention_SameOutputAndStaysChannelsLast()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        manual_seed(3);
        var nchw = new ResnetThenAttention();
        foreach (var (name, parameter) in nchw.named_parameters())   // every value set: the loader does it in the models
            if (name.Contains("norm") && name.EndsWith("weight"))
                parameter.uniform_(0.5, 1.5);
            else
                parameter.uniform_(-0.3, 0.3);
        var nhwc = new ResnetThenAttention();
        nhwc.load_state_dict(nchw.state_dict());
        ChannelsLast.UseForConvolutions(nhwc);
        var x = randn(2, 32, 8, 8);

        var expected = nchw.call(x);
        var actual = nhwc.call(ChannelsLast.Of(x));

        Assert.All(nhwc.parameters().Where(p => p.dim() == 4), p => Assert.True(ChannelsLast.Is(p)));
        Assert.True(ChannelsLast.Is(actual), "the block's output left channels-last memory");
        var worst = (actual - expected).abs().max().item<float>() / expected.abs().max().item<float>();
        Assert.True(worst < 1e-5, $"max relative difference {worst}");
    }

    // A VAE mid-block's shape: resnet (32 → 64 channels, 1×1 shortcut), then spatial self-attention with GroupNorm.
    private sealed class ResnetThenAttention : nn.Module<Tensor, Tensor>
    {
        private readonly ResnetBlock2D resnet = new(32, 64, null, groups: 8, eps: 1e-6, act: "silu");
        private readonly Attention attention = new(64, heads: 1, dimHead: 64, bias: true, normNumGroups: 8, eps: 1e-6, residualConnection: true);

        public ResnetThenAttention() : base(nameof(ResnetThenAttention)) => RegisterComponents();

        public override Tensor forward(Tensor x)
        {
            using var h = resnet.call(x, null);
            return attention.call(h, null);
        }
    }
}
