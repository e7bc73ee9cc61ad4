using MultiModal.Models.Layers;
using MultiModal.Models.Runtime;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Layers;

/// <summary>
/// Projections packed side by side against each projection packed alone with the panels: every output column is the same
/// float32 sum in the same order, so the results are equal bit for bit; and where the fused product must not serve (a
/// graph being recorded, more rows than the panels take), it says so and the caller uses the projections.
/// </summary>
public sealed class PanelPackedProjectionsTests
{
    [Theory]
    [InlineData(1, true)]
    [InlineData(50, true)]
    [InlineData(77, false)]
    public void TryMultiply_FewRows_EqualsEachProjectionPackedAlone(int rows, bool withBias)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        manual_seed(3);
        var projections = new[] { new PackedLinear(96, 96, withBias), new PackedLinear(96, 40, withBias), new PackedLinear(96, 96, withBias) };
        using var fused = PanelPackedProjections.TryPack(projections);
        Assert.NotNull(fused);
        foreach (var projection in projections)
            projection.PackForInference(LinearPacking.Panels);
        var input = randn(1, rows, 96);

        var outputs = fused.TryMultiply(input);

        Assert.NotNull(outputs);
        Assert.Equal(3, outputs.Length);
        for (var i = 0; i < 3; i++)
            Assert.True(projections[i].call(input).eq(outputs[i]).all().item<bool>(), $"projection {i} equals its own packed product");
        foreach (var projection in projections) projection.Dispose();
    }

    [Fact]
    public void TryMultiply_MoreRowsThanThePanelsTake_ReturnsNull()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        using var fused = PanelPackedProjections.TryPack(new PackedLinear(32, 32), new PackedLinear(32, 32));

        Assert.NotNull(fused);
        Assert.Null(fused.TryMultiply(randn(PanelPackedMatrix.MaxRows + 1, 32)));
        Assert.NotNull(fused.TryMultiply(randn(PanelPackedMatrix.MaxRows, 32)));
    }

    [Fact]
    public void TryMultiply_GraphBeingRecorded_ReturnsNull()
    {
        using var scope = NewDisposeScope();
        using var fused = PanelPackedProjections.TryPack(new PackedLinear(32, 32), new PackedLinear(32, 32));

        Assert.NotNull(fused);
        using (enable_grad())
            Assert.Null(fused.TryMultiply(randn(4, 32, requires_grad: true)));
    }

    [Fact]
    public void TryPack_ProjectionsOfDifferentInputWidths_ReturnsNull()
    {
        using var scope = NewDisposeScope();

        Assert.Null(PanelPackedProjections.TryPack(new PackedLinear(32, 32), new PackedLinear(16, 32)));
    }
}
