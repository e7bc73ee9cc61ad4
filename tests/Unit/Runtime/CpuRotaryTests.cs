using MultiModal.Models.Llava;
using MultiModal.Models.Runtime;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Runtime;

/// <summary>
/// CpuRotary against apply_rotary_pos_emb as libtorch operators (LlamaRotaryEmbedding.Apply on the (B, heads, T, D)
/// view): the same operations in the same order with the same roundings, so the same bits in float32 and bfloat16.
/// </summary>
public sealed class CpuRotaryTests
{
    [Theory]
    [InlineData(1, 1, 32, 64, ScalarType.Float32)]
    [InlineData(2, 1, 4, 64, ScalarType.Float32)]
    [InlineData(1, 5, 3, 8, ScalarType.Float32)]
    [InlineData(1, 1, 32, 64, ScalarType.BFloat16)]
    [InlineData(2, 1, 4, 64, ScalarType.BFloat16)]
    [InlineData(1, 5, 3, 8, ScalarType.BFloat16)]
    public void Apply_EqualsTheOperatorSequenceBitForBit(int b, int t, int heads, int d, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var projected = (randn(b, t, heads * d, generator: new Generator(5, CPU)) * 4).to(dtype);
        var positions = arange(b * t, dtype: ScalarType.Int64).reshape(b, t) * 37 + 11;
        var (cos, sin) = new LlamaRotaryEmbedding(d, 10000).CosSin(positions, dtype);

        var rotated = CpuRotary.Apply(projected, cos, sin, heads);

        var view = projected.view(b, t, heads, d).transpose(1, 2);
        var (expected, _) = LlamaRotaryEmbedding.Apply(view, view, cos, sin);
        var actual = rotated.view(b, t, heads, d).transpose(1, 2);
        Assert.True(actual.eq(expected).all().item<bool>(), $"{dtype}: largest difference {(actual.to(ScalarType.Float32) - expected.to(ScalarType.Float32)).abs().max().item<float>():E2}");
    }

    [Fact]
    public void Apply_CosOfAnotherDtype_IsRefused()
    {
        using var scope = NewDisposeScope();
        var projected = ones(1, 1, 8);
        var cos = ones(1, 1, 8, ScalarType.BFloat16);

        var error = Assert.Throws<ArgumentException>(() => CpuRotary.Apply(projected, cos, cos, heads: 1));
        Assert.Contains("one dtype", error.Message);
    }
}
