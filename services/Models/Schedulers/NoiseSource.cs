using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Schedulers;

/// <summary>Where a stochastic scheduler step (Euler a, DDPM) draws its N(0, 1) noise from.</summary>
public interface INoiseSource
{
    /// <summary>One draw of N(0, 1) noise of <paramref name="shape"/>, as diffusers' <c>randn_tensor</c> would make it.</summary>
    Tensor Randn(long[] shape, ScalarType dtype, Device device);
}

/// <summary>
/// diffusers' <c>randn_tensor(shape, generator=...)</c> with CPU generators: with one generator per image, row i is
/// drawn as a <c>(1, …)</c> tensor from generator i and the rows are concatenated; with one generator the whole
/// tensor comes from it. Noise is drawn on the CPU and moved to the device, so a seed gives PyTorch's numbers.
/// </summary>
public sealed class GeneratorNoise : INoiseSource
{
    private readonly IReadOnlyList<Generator> _generators;

    public GeneratorNoise(Generator generator) => _generators = [generator];

    /// <summary>One generator per batch row (a list of length 1 behaves like a single generator, as in diffusers).</summary>
    public GeneratorNoise(IReadOnlyList<Generator> generators)
    {
        if (generators.Count == 0) throw new ArgumentException("At least one generator is required.", nameof(generators));
        _generators = generators;
    }

    public Tensor Randn(long[] shape, ScalarType dtype, Device device)
    {
        if (_generators.Count == 1)
            return torch.randn(shape, dtype, CPU, generator: _generators[0]).to(device);
        if (shape[0] != _generators.Count)
            throw new ArgumentException($"Batch size {shape[0]} does not match the {_generators.Count} generators.");
        long[] rowShape = [1, .. shape[1..]];
        using var scope = NewDisposeScope();
        var rows = _generators.Select(g => torch.randn(rowShape, dtype, CPU, generator: g)).ToArray();
        return torch.cat(rows, 0).to(device).MoveToOuterDisposeScope();
    }
}

/// <summary>Replays recorded draws (<c>[draws, …shape]</c>) in order: the golden files record diffusers' noise this way.</summary>
public sealed class RecordedNoise(Tensor draws) : INoiseSource
{
    /// <summary>How many draws have been taken.</summary>
    public int Taken { get; private set; }

    public Tensor Randn(long[] shape, ScalarType dtype, Device device)
    {
        if (Taken >= draws.shape[0])
            throw new InvalidOperationException($"All {draws.shape[0]} recorded noise draws are used up.");
        var draw = draws[Taken++];
        if (!draw.shape.SequenceEqual(shape))
            throw new ArgumentException($"Recorded draw has shape [{string.Join(", ", draw.shape)}], asked for [{string.Join(", ", shape)}].");
        return draw.to(dtype, device);
    }
}
