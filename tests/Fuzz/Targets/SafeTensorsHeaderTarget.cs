using MultiModal.Models.Weights;

namespace MultiModal.Tests.Fuzz.Targets;

/// <summary>
/// <see cref="SafeTensorsFile.ReadHeader"/> (the header parse behind <see cref="SafeTensorsFile.Open"/> and every
/// checkpoint load) on arbitrary file bytes. Clean rejections: <see cref="InvalidDataException"/> (not a safetensors
/// file, bad header) and <see cref="NotSupportedException"/> (a dtype this reader does not load). An accepted header
/// must place every tensor inside the file with as many bytes as its shape and dtype need.
/// </summary>
public sealed class SafeTensorsHeaderTarget : IFuzzTarget
{
    public const string TargetName = "safetensors";

    public string Name => TargetName;

    public string Description => "file bytes → SafeTensorsFile.ReadHeader; rejects with InvalidDataException or NotSupportedException";

    public void Run(ReadOnlySpan<byte> input)
    {
        using var stream = new MemoryStream(input.ToArray(), writable: false);
        SafeTensorsHeader header;
        try
        {
            header = SafeTensorsFile.ReadHeader(stream, "fuzz.safetensors");
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            return;
        }
        foreach (var entry in header.Entries.Values)
        {
            var elements = entry.Shape.Aggregate(1L, (a, b) => a * b);
            FuzzInvariantException.That(entry.Shape.All(d => d >= 0) && entry.Begin >= 0 && entry.End >= entry.Begin
                && header.DataStart + entry.End <= header.FileLength
                && elements * SafeTensorsFile.ElementSize(entry.DType) == entry.ByteLength,
                $"tensor '{entry.Name}' accepted with shape [{string.Join(", ", entry.Shape)}] and offsets [{entry.Begin}, {entry.End}]");
        }
    }
}
