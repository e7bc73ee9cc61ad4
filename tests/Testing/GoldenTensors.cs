using MultiModal.Models.Weights;
using static TorchSharp.torch;

namespace MultiModal.Tests.Testing;

/// <summary>Reads reference tensors from a golden .safetensors file (copied to the CPU, owned by the caller).</summary>
public sealed class GoldenTensors(string path)
{
    private readonly SafeTensorsFile _file = SafeTensorsFile.Open(path);

    public IEnumerable<string> Names => _file.Entries.Keys;

    public Tensor this[string name] => _file.Load(name).clone();
}
