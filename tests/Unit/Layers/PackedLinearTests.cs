using MultiModal.Models.Layers;
using MultiModal.Models.Runtime;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Layers;

/// <summary>
/// PackedLinear against functional.linear on the same weights, in each LinearPacking: packed once, then products of any
/// number of rows (the pack does not depend on them), with and without bias; and when the pack must not be used (a graph
/// being recorded, training mode, other dtypes, more rows than the panels take). The bound is float32 accumulation in another blocking order: ≤ k·2⁻²⁴·Σ|x·w|, allowed
/// twice; in practice oneMKL's packed and unpacked sgemm agree bit for bit at most shapes.
/// </summary>
public sealed class PackedLinearTests
{
    [Theory]
    [InlineData(1, 64, 48, true, LinearPacking.OneMkl)]
    [InlineData(50, 768, 768, true, LinearPacking.OneMkl)]
    [InlineData(400, 768, 3072, false, LinearPacking.OneMkl)]
    [InlineData(7, 3072, 768, true, LinearPacking.OneMkl)]
    [InlineData(1, 64, 48, true, LinearPacking.Panels)]
    [InlineData(50, 768, 768, true, LinearPacking.Panels)]
    [InlineData(7, 3072, 768, true, LinearPacking.Panels)]
    public void Forward_Packed_MatchesFunctionalLinearWithinFloat32Rounding(int rows, int k, int n, bool withBias, LinearPacking packing)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        manual_seed(7);
        using var layer = new PackedLinear(k, n, hasBias: withBias);
        var weight = layer.state_dict()["weight"];
        var bias = withBias ? layer.state_dict()["bias"] : null;
        var input = randn(2, rows, k);
        layer.PackForInference(packing);

        var packed = layer.call(input);
        var reference = nn.functional.linear(input.to(ScalarType.Float64), weight.to(ScalarType.Float64), bias?.to(ScalarType.Float64));

        Assert.True(packing == LinearPacking.OneMkl ? MklPackedMatrix.Available : PanelPackedMatrix.Supported, $"{packing} runs here");
        Assert.True(layer.IsPacked);
        var bound = 2 * k * Math.Pow(2, -24) * matmul(input.abs().to(ScalarType.Float64), weight.abs().to(ScalarType.Float64).t()).add(1e-30);
        var excess = (packed.to(ScalarType.Float64) - reference).abs() / bound;
        Assert.True(excess.max().item<double>() <= 1, $"error {excess.max().item<double>():F2}x the bound");
    }

    [Fact]
    public void Forward_GraphRecordedOrTraining_IsFunctionalLinearAndTrainingDropsThePack()
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        using var layer = new PackedLinear(32, 16);
        layer.PackForInference();
        var input = randn(3, 32);
        var expected = nn.functional.linear(input, layer.state_dict()["weight"], layer.state_dict()["bias"]);

        var recorded = layer.call(input.requires_grad_(true));
        Assert.True(recorded.requires_grad);
        Assert.True(recorded.equal(expected).all().item<bool>());

        layer.train();
        Assert.False(layer.IsPacked);
    }

    [Fact]
    public void Forward_PanelsAndMoreRowsThanTheyTake_IsFunctionalLinear()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        manual_seed(9);
        using var layer = new PackedLinear(40, 24);
        layer.PackForInference(LinearPacking.Panels);
        var input = randn(PanelPackedMatrix.MaxRows + 1, 40);

        var output = layer.call(input);

        Assert.True(layer.IsPacked);
        Assert.True(output.equal(nn.functional.linear(input, layer.state_dict()["weight"], layer.state_dict()["bias"])).all().item<bool>());
    }

    [Fact]
    public void PackForInference_Bfloat16Weights_StaysUnpacked()
    {
        using var layer = new PackedLinear(32, 16);
        layer.to(ScalarType.BFloat16);

        layer.PackForInference();

        Assert.False(layer.IsPacked);
    }
}
