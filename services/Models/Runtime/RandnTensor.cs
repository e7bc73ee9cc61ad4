// Port of diffusers/utils/torch_utils.py randn_tensor at v0.25.1: where and how Gaussian noise is drawn, so a seed
// gives PyTorch's numbers (libtorch's CPU generator is the same in TorchSharp).
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Runtime;

/// <summary>Gaussian noise drawn the way diffusers' <c>randn_tensor</c> draws it.</summary>
public static class RandnTensor
{
    /// <summary>
    /// N(0, 1) of <paramref name="shape"/> and <paramref name="dtype"/> on <paramref name="device"/>. A CPU generator
    /// draws on the CPU and the result is moved (so CPU seeds reproduce on a GPU); no generator uses the global RNG.
    /// </summary>
    public static Tensor Randn(long[] shape, ScalarType dtype, Device device, Generator? generator = null)
    {
        var drawDevice = generator is not null && generator.device.type == DeviceType.CPU ? CPU : device;
        if (generator is not null && generator.device.type != DeviceType.CPU && generator.device.type != device.type)
            throw new ArgumentException($"A {generator.device.type} generator cannot draw noise for a {device.type} tensor.", nameof(generator));
        var noise = randn(shape, dtype: dtype, device: drawDevice, generator: generator);
        if (drawDevice.type == device.type)
            return noise;
        using (noise)
            return noise.to(device);
    }

    /// <summary>
    /// One generator per batch row, as diffusers does for a list of generators: row i is drawn, shape (1, ...), from
    /// <paramref name="generators"/>[i] in order, then the rows are concatenated.
    /// </summary>
    public static Tensor Randn(long[] shape, ScalarType dtype, Device device, IReadOnlyList<Generator> generators)
    {
        if (generators.Count == 1)
            return Randn(shape, dtype, device, generators[0]);
        if (shape.Length == 0 || generators.Count != shape[0])
            throw new ArgumentException(
                $"{generators.Count} generators were given for a batch of {(shape.Length == 0 ? 0 : shape[0])}; pass one per row.", nameof(generators));
        long[] rowShape = [1, .. shape[1..]];
        var rows = generators.Select(g => Randn(rowShape, dtype, device, g)).ToArray();
        try
        {
            return cat(rows, dim: 0);
        }
        finally
        {
            foreach (var row in rows)
                row.Dispose();
        }
    }
}
