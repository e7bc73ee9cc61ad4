using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Testing;

/// <summary>Numeric comparisons against reference tensors, reporting where and by how much they differ.</summary>
public static class TensorAssert
{
    /// <summary>Asserts |actual - expected| ≤ atol + rtol·|expected| elementwise (torch.allclose semantics).</summary>
    public static void Close(Tensor expected, Tensor actual, double atol, double rtol, string what = "tensor")
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var e = expected.to(ScalarType.Float64, CPU);
        var a = actual.to(ScalarType.Float64, CPU);
        var diff = (a - e).abs();
        var allowed = atol + rtol * e.abs();
        var excess = diff - allowed;
        var worst = excess.argmax().item<long>();
        var ok = excess.max().item<double>() <= 0;
        Assert.True(ok,
            $"{what}: max abs diff {diff.max().item<double>():G6} (mean {diff.mean().item<double>():G6}); worst at flat index " +
            $"{worst}: expected {e.flatten()[worst].item<double>():G8}, actual {a.flatten()[worst].item<double>():G8} " +
            $"(atol {atol}, rtol {rtol})");
    }

    /// <summary>Asserts the cosine similarity of each row pair is at least <paramref name="min"/>.</summary>
    public static void RowCosineAtLeast(Tensor expected, Tensor actual, double min, string what = "rows")
    {
        using var scope = NewDisposeScope();
        var e = expected.to(ScalarType.Float64, CPU);
        var a = actual.to(ScalarType.Float64, CPU);
        var cos = nn.functional.cosine_similarity(e, a, dim: -1);
        var worst = cos.min().item<double>();
        Assert.True(worst >= min, $"{what}: min cosine {worst:G9} < {min}");
    }
}
