using MultiModal.Models.Runtime;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Runtime;

/// <summary>
/// The panel kernels against a float64 product of the same numbers, at shapes that reach every edge: rows that do not
/// fill the AVX2 kernel's 6 or a row block of 120, the AVX-512 kernel's row tiles of every height (1–12) and more than
/// one block of 10 tiles, outputs that do not fill a 16-wide panel, depths
/// beyond one 256 block, with and without bias, one thread and two. The bound is float32 accumulation in k steps: ≤ k·2⁻²⁴·Σ|x·w|, allowed
/// twice (the same as PackedLinearTests').
/// </summary>
public sealed class PanelPackedMatrixTests
{
    private static readonly (int Rows, int K, int N, bool WithBias, int Threads)[] Shapes =
    [
        (1, 64, 48, true, 1), (6, 16, 16, false, 1), (7, 33, 17, true, 2), (13, 40, 32, true, 2), (50, 768, 768, true, 2),
        (77, 520, 70, false, 2), (130, 300, 40, true, 2),
    ];

    /// <summary>Every shape with every kernel this CPU runs (AVX2 everywhere this project runs; AVX-512 where it runs).</summary>
    public static TheoryData<PanelKernel, int, int, int, bool, int> KernelsAndShapes()
    {
        var data = new TheoryData<PanelKernel, int, int, int, bool, int>();
        foreach (var kernel in PanelKernels.Running)
            foreach (var (rows, k, n, withBias, threads) in Shapes)
                data.Add(kernel, rows, k, n, withBias, threads);
        return data;
    }

    [Theory]
    [MemberData(nameof(KernelsAndShapes))]
    public void Multiply_AnyShape_MatchesFloat64ProductWithinFloat32Rounding(PanelKernel kernel, int rows, int k, int n, bool withBias, int threads)
    {
        Assert.True(PanelPackedMatrix.Supported, "the CPUs this project runs on have AVX2 and FMA");
        using var scope = NewDisposeScope();
        manual_seed(11);
        var weight = randn(n, k);
        var bias = withBias ? randn(n) : null;
        var input = randn(2, rows, k);
        using var packed = PanelPackedMatrix.Pack(weight, kernel);

        Assert.Equal(kernel, packed.Kernel);
        var output = packed.Multiply(input, bias, threads);

        Assert.Equal(new long[] { 2, rows, n }, output.shape);
        AssertWithinFloat32Rounding(output, input, weight, bias);
    }

    /// <summary>1 to 24 rows: every tile height of the AVX-512 kernel alone (1–12) and split in two (13–24).</summary>
    public static TheoryData<PanelKernel, int> KernelsAndRowCounts()
    {
        var data = new TheoryData<PanelKernel, int>();
        foreach (var kernel in PanelKernels.Running)
            for (var rows = 1; rows <= 24; rows++)
                data.Add(kernel, rows);
        return data;
    }

    [Theory]
    [MemberData(nameof(KernelsAndRowCounts))]
    public void Multiply_AnyRowCount_MatchesFloat64ProductWithinFloat32Rounding(PanelKernel kernel, int rows)
    {
        using var scope = NewDisposeScope();
        manual_seed(rows);
        var weight = randn(36, 300);
        var bias = randn(36);
        var input = randn(rows, 300);
        using var packed = PanelPackedMatrix.Pack(weight, kernel);

        var output = packed.Multiply(input, bias, threads: 2);

        Assert.Equal(new long[] { rows, 36 }, output.shape);
        AssertWithinFloat32Rounding(output, input, weight, bias);
    }

    private static void AssertWithinFloat32Rounding(Tensor output, Tensor input, Tensor weight, Tensor? bias)
    {
        var k = weight.shape[1];
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
