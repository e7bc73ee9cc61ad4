// Several linear projections of the same input (an attention's q, k and v) as one product: their weights side by side in
// one PanelPackedMatrix, so a batch-1 forward runs one panel product (one copy of x into row tiles, one fan-out over the
// threads) where it ran three. Each output column is the same float32 sum as its own projection's, so results equal
// the three PackedLinear panel products bit for bit. The projections keep their own weights (and state-dict keys) for
// training, other dtypes and devices, and products of more rows than the panels take.
using MultiModal.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Layers;

/// <summary>Projections of one input through one panel-packed product of their stacked weights.</summary>
public sealed class PanelPackedProjections : IDisposable
{
    private readonly PanelPackedMatrix _matrix;
    private readonly Tensor? _bias;
    private readonly long[] _widths;

    private PanelPackedProjections(PanelPackedMatrix matrix, Tensor? bias, long[] widths)
    {
        (_matrix, _bias, _widths) = (matrix, bias, widths);
    }

    /// <summary>
    /// Packs <paramref name="projections"/> (same input width, float32 on the CPU) side by side; null where the panel
    /// kernels do not run or the weights are not float32 CPU matrices of one input width.
    /// </summary>
    public static PanelPackedProjections? TryPack(params PackedLinear[] projections)
    {
        if (!PanelPackedMatrix.Supported || projections.Length == 0 ||
            projections.Any(p => p.Weight.device_type != DeviceType.CPU || p.Weight.dtype != ScalarType.Float32) ||
            projections.Select(p => p.Weight.shape[1]).Distinct().Count() != 1)
            return null;
        using var _ = no_grad();
        using var weight = cat(projections.Select(p => p.Weight).ToArray(), 0);
        var widths = projections.Select(p => p.Weight.shape[0]).ToArray();
        Tensor? bias = null;
        if (projections.Any(p => p.Bias is not null))
        {
            var parts = projections.Select(p => p.Bias?.detach() ?? zeros(p.Weight.shape[0])).ToArray();
            bias = cat(parts, 0);
            foreach (var part in parts) part.Dispose();
        }
        return new PanelPackedProjections(PanelPackedMatrix.Pack(weight), bias, widths);
    }

    /// <summary>
    /// Each projection of <paramref name="input"/> (…, in), in the packing's order, as views of one product; null where
    /// the panels do not serve it (a graph being recorded, not float32 on the CPU, more than
    /// <see cref="PanelPackedMatrix.MaxRows"/> rows): then call the projections themselves.
    /// </summary>
    public Tensor[]? TryMultiply(Tensor input)
    {
        if (is_grad_enabled() || input.device_type != DeviceType.CPU || input.dtype != ScalarType.Float32 ||
            input.numel() / _matrix.K > PanelPackedMatrix.MaxRows)
            return null;
        using var product = _matrix.Multiply(input, _bias, get_num_threads());
        return product.split(_widths, -1);
    }

    public void Dispose()
    {
        _matrix.Dispose();
        _bias?.Dispose();
    }
}
