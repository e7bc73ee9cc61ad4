using System.Runtime.CompilerServices;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Testing;

/// <summary>Numeric comparisons against reference tensors, reporting where and by how much they differ.</summary>
public static class TensorAssert
{
    /// <summary>Asserts |actual - expected| ≤ atol + rtol·|expected| elementwise (torch.allclose semantics).</summary>
    public static void Close(Tensor expected, Tensor actual, double atol, double rtol, string what = "tensor",
        [CallerFilePath] string file = "", [CallerMemberName] string member = "")
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
        var used = atol == 0 && rtol == 0
            ? (diff.max().item<double>() == 0 ? 0 : double.PositiveInfinity)
            : (diff / allowed.clamp_min(double.Epsilon)).max().item<double>();
        BoundLog.Record($"{what} (atol {atol}, rtol {rtol})", diff.max().item<double>(), atol, used, file, member);
        Assert.True(ok,
            $"{what}: max abs diff {diff.max().item<double>():G6} (mean {diff.mean().item<double>():G6}); worst at flat index " +
            $"{worst}: expected {e.flatten()[worst].item<double>():G8}, actual {a.flatten()[worst].item<double>():G8} " +
            $"(atol {atol}, rtol {rtol})");
    }

    /// <summary>Asserts the cosine similarity of each row pair is at least <paramref name="min"/>.</summary>
    public static void RowCosineAtLeast(Tensor expected, Tensor actual, double min, string what = "rows",
        [CallerFilePath] string file = "", [CallerMemberName] string member = "")
    {
        using var scope = NewDisposeScope();
        var e = expected.to(ScalarType.Float64, CPU);
        var a = actual.to(ScalarType.Float64, CPU);
        var cos = nn.functional.cosine_similarity(e, a, dim: -1);
        var worst = cos.min().item<double>();
        BoundLog.Record($"{what} 1 - cosine", 1 - worst, 1 - min, (1 - worst) / (1 - min), file, member);
        Assert.True(worst >= min, $"{what}: min cosine {worst:G9} < {min}");
    }
}
