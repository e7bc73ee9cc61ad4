using MultiModal.Models.Runtime;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Runtime;

/// <summary>
/// CpuRmsNorm against transformers' LlamaRMSNorm as libtorch operators (x to float32, pow, mean, + eps, rsqrt, ×, back to
/// the input dtype, × weight). The per-element arithmetic is the same; only the sum of squares is taken in another order,
/// so rsqrt(mean + eps) may differ in its last bit: float32 results agree to a few ulps, bfloat16 ones are equal but for
/// the rare element that a last-bit difference moves across a rounding boundary (one bfloat16 step).
/// </summary>
public sealed class CpuRmsNormTests
{
    [Theory]
    [InlineData(1, 2048)]
    [InlineData(2, 2048)]
    [InlineData(16, 100)]
    [InlineData(3, 7)]
    public void Float32_EqualsTheOperatorSequence(int rows, int n)
    {
        using var scope = NewDisposeScope();
        var x = randn(rows, n, generator: new Generator(1, CPU)) * 3;
        var w = randn(n, generator: new Generator(2, CPU));

        var y = CpuRmsNorm.Apply(x, w, 1e-5);

        var expected = Reference(x, w, 1e-5);
        var error = ((y - expected).abs() / (expected.abs() + 1e-6)).max().item<float>();
        Assert.True(error < 1e-6, $"largest relative difference {error:E2}");
    }

    [Theory]
    [InlineData(1, 2048)]
    [InlineData(2, 2048)]
    [InlineData(16, 100)]
    public void BFloat16_EqualsTheOperatorSequence_ButForRareOneStepRoundings(int rows, int n)
    {
        using var scope = NewDisposeScope();
        var x = (randn(rows, n, generator: new Generator(3, CPU)) * 3).to(ScalarType.BFloat16);
        var w = randn(n, generator: new Generator(4, CPU)).to(ScalarType.BFloat16);

        var y = CpuRmsNorm.Apply(x, w, 1e-5);

        var expected = Reference(x, w, 1e-5).to(ScalarType.Float32);
        var actual = y.to(ScalarType.Float32);
        var differing = actual.ne(expected).sum().item<long>();
        var oneStep = ((actual - expected).abs() <= expected.abs() * (1.0 / 128) + 1e-30).all().item<bool>();
        Assert.True(oneStep, "a bfloat16 result more than one rounding step from the operator sequence's");
        Assert.True(differing <= Math.Max(1, rows * n / 100), $"{differing} of {rows * n} elements differ");
    }

    [Fact]
    public void Apply_MixedDtypes_IsRefused()
    {
        using var x = ones(2, 8);
        using var w = ones(8, ScalarType.BFloat16);

        var error = Assert.Throws<ArgumentException>(() => CpuRmsNorm.Apply(x, w, 1e-5));
        Assert.Contains("Float32", error.Message);
    }

    [Fact]
    public void BFloat16_NaNInput_GivesNaN()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1f, float.NaN, 2f, 3f }).to(ScalarType.BFloat16).reshape(1, 4);
        var w = ones(4, ScalarType.BFloat16);

        var y = CpuRmsNorm.Apply(x, w, 1e-5);

        Assert.True(y.isnan().all().item<bool>());
    }

    // LlamaRMSNorm.forward in transformers 4.36, as libtorch operators.
    private static Tensor Reference(Tensor x, Tensor w, double eps)
    {
        var h = x.to(ScalarType.Float32);
        var variance = h.pow(2).mean([-1], keepdim: true);
        var normed = h * (variance + eps).rsqrt();
        return w * normed.to(x.dtype);
    }
}
