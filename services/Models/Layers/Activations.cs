// Port of diffusers/models/activations.py get_activation at v0.25.1: the names a diffusers config may give as act_fn.
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Models.Layers;

/// <summary>The activations diffusers configs name in <c>act_fn</c> (silu/swish, mish, gelu, relu).</summary>
public static class DiffusersActivation
{
    /// <summary>True when <paramref name="name"/> is one <see cref="Apply"/> knows.</summary>
    public static bool IsKnown(string name) => name is "silu" or "swish" or "mish" or "gelu" or "relu";

    /// <summary>Returns act(x) as a new tensor; <paramref name="x"/> is left as it was.</summary>
    public static Tensor Apply(string name, Tensor x) => name switch
    {
        "silu" or "swish" => functional.silu(x),
        "mish" => functional.mish(x),
        "gelu" => functional.gelu(x),
        "relu" => functional.relu(x),
        _ => throw new NotSupportedException($"act_fn '{name}' is not supported; expected silu, swish, mish, gelu or relu."),
    };

    /// <summary>Applies act in place on <paramref name="x"/> (which the caller owns) and returns it.</summary>
    public static Tensor ApplyInPlace(string name, Tensor x) => name switch
    {
        "silu" or "swish" => x.silu_(),
        "mish" => functional.mish(x, inplace: true),
        "gelu" => x.gelu_(),
        "relu" => x.relu_(),
        _ => throw new NotSupportedException($"act_fn '{name}' is not supported; expected silu, swish, mish, gelu or relu."),
    };
}
