using MultiModal.Models.Runtime;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Runtime;

/// <summary>
/// The panel kernel against a float64 product of the same numbers, at shapes that reach every edge: rows that do not
/// fill the kernel's 6 or a row block of 120, outputs that do not fill a 16-wide panel, depths beyond one 256 block,
/// with and without bias, one thread and two. The bound is float32 accumulation in k steps: ≤ k·2⁻²⁴·Σ|x·w|, allowed
/// twice (the same as PackedLinearTests').
/// </summary>
public sealed class PanelPackedMatrixTests
{
    [Theory]
    [InlineData(1, 64, 48, true, 1)]
    [InlineData(6, 16, 16, false, 1)]
    [InlineData(7, 33, 17, true, 2)]
    [InlineData(50, 768, 768, true, 2)]
    [InlineData(77, 520, 70, false, 2)]
    [InlineData(130, 300, 40, true, 2)]
    public void Multiply_AnyShape_MatchesFloat64ProductWithinFloat32Rounding(int rows, int k, int n, bool withBias, int threads)
    {
        Assert.True(PanelPackedMatrix.Supported, "the CPUs this project runs on have AVX2 and FMA");
        using var scope = NewDisposeScope();
        manual_seed(11);
        var weight = randn(n, k);
        var bias = withBias ? randn(n) : null;
        var input = randn(2, rows, k);
        using var packed = PanelPackedMatrix.Pack(weight);

        var output = packed.Multiply(input, bias, threads);

        Assert.Equal(new long[] { 2, rows, n }, output.shape);
        var reference = nn.functional.linear(input.to(ScalarType.Float64), weight.to(ScalarType.Float64), bias?.to(ScalarType.Float64));
        var bound = 2 * k * Math.Pow(2, -24) * matmul(input.abs().to(ScalarType.Float64), weight.abs().to(ScalarType.Float64).t()).add(1e-30);
        var excess = (output.to(ScalarType.Float64) - reference).abs() / bound;
        Assert.True(excess.max().item<double>() <= 1, $"error {excess.max().item<double>():F2}x the bound");
    }

    [Fact]
    public void Multiply_RowsOfAnotherWidth_ThrowsInsteadOfReadingPastThem()
    {
        using var packed = PanelPackedMatrix.Pack(ones(16, 8));

        var error = Assert.Throws<ArgumentException>(() => packed.Multiply(ones(3, 7), null, 1));
        Assert.Contains("rows of 8", error.Message);
    }

    [Fact]
    public void Multiply_AfterDispose_Throws()
    {
        var packed = PanelPackedMatrix.Pack(ones(16, 8));
        packed.Dispose();

        Assert.Throws<ObjectDisposedException>(() => packed.Multiply(ones(1, 8), null, 1));
    }
}
