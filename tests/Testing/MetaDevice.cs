using static TorchSharp.torch;

namespace MultiModal.Tests.Testing;

/// <summary>PyTorch's meta device: modules built there have names and shapes but no memory and no init cost.</summary>
public static class MetaDevice
{
    public static Device Device => META;

    /// <summary>"key [d0, d1]" lines of a module's state dict, in module order.</summary>
    public static List<string> KeysAndShapes(nn.Module module) =>
        module.state_dict().Select(kv => $"{kv.Key} [{string.Join(", ", kv.Value.shape)}]").ToList();
}
