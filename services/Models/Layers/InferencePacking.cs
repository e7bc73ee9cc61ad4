using MultiModal.Models.Runtime;
using static TorchSharp.torch;

namespace MultiModal.Models.Layers;

/// <summary>A module that packs its own float32 CPU weights for serving: a <see cref="PackedLinear"/>, or a module that packs several of its linears together.</summary>
public interface IPacksForInference
{
    /// <summary>Packs with <paramref name="packing"/> (<see cref="LinearPackings.Default"/> when null) where it can run; otherwise nothing changes.</summary>
    void PackForInference(LinearPacking? packing = null);

    /// <summary>Whether its products currently go through packed weights.</summary>
    bool IsPacked { get; }
}

/// <summary>Packs a model's <see cref="IPacksForInference"/> modules: the outermost ones, which pack what they hold.</summary>
public static class InferencePacking
{
    public static void PackAll(nn.Module model, LinearPacking? packing = null)
    {
        foreach (var module in Packables(model))
            module.PackForInference(packing);
    }

    /// <summary>Whether <paramref name="model"/> has packable modules and every one is packed.</summary>
    public static bool AllPacked(nn.Module model)
    {
        var packables = Packables(model).ToList();
        return packables.Count > 0 && packables.All(m => m.IsPacked);
    }

    private static IEnumerable<IPacksForInference> Packables(nn.Module module)
    {
        foreach (var child in module.children())
            if (child is IPacksForInference packable)
                yield return packable;
            else
                foreach (var inner in Packables(child))
                    yield return inner;
    }
}
