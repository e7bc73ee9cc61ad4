// torch.nn.Linear (weight (out, in), bias (out)) with the same state-dict keys and default init, whose bfloat16 CPU
// products with one or two rows (a language model's decode step) go through CpuGemv: they are bound by the weight
// bytes read, and libtorch reads bfloat16 weights at half the speed it reads float32 ones. Everything else (float32,
// whose 1-2 row products libtorch runs at memory speed once oneMKL dispatches by CPU features; more rows; other
// devices) is functional.linear. Numbers: float32 accumulation in another order, rounded once to bfloat16, as
// libtorch's bfloat16 linear does.
using MultiModal.Models.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Models.Layers;

/// <summary>A linear layer whose decode-shaped products on the CPU read each weight once at memory speed.</summary>
public sealed class GemvLinear : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;

    public GemvLinear(long inFeatures, long outFeatures, bool hasBias = true, Device? device = null) : base(nameof(GemvLinear))
    {
        weight = new Parameter(empty(outFeatures, inFeatures, device: device), requires_grad: false);
        if (hasBias)
            bias = new Parameter(empty(outFeatures, device: device), requires_grad: false);
        DefaultInit.Uniform(weight, bias, inFeatures);
        RegisterComponents();
    }

    /// <summary>Off: every product goes to functional.linear (benchmarks compare both in one process).</summary>
    public static bool UseGemvOnCpu { get; set; } = true;

    public Tensor Weight => weight;

    // input: (…, in) → (…, out)
    public override Tensor forward(Tensor input) => Linear(input, weight, bias);

    /// <summary>functional.linear(input, weight, bias), through CpuGemv where the product is decode-shaped.</summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias) =>
        TakesCpuGemv(input, weight, bias) ? CpuLinear(input, [(weight, bias)])[0] : functional.linear(input, weight, bias);

    /// <summary>
    /// Each layer applied to the same input (a layer's q, k and v projections; gate and up): what <c>layer.call(input)</c>
    /// gives for each, in one CpuGemv pass when all of them are decode-shaped (one fork and join instead of one per layer).
    /// </summary>
    public static Tensor[] Project(Tensor input, params GemvLinear[] layers) =>
        layers.All(layer => TakesCpuGemv(input, layer.weight, layer.bias))
            ? CpuLinear(input, [.. layers.Select(layer => ((Tensor)layer.weight, (Tensor?)layer.bias))])
            : [.. layers.Select(layer => layer.call(input))];

    private static unsafe Tensor[] CpuLinear(Tensor input, (Tensor Weight, Tensor? Bias)[] layers)
    {
        long k = input.shape[^1];
        using var x = input.contiguous();
        var outputs = layers.Select(layer => empty([.. input.shape[..^1], layer.Weight.shape[0]], ScalarType.BFloat16)).ToArray();
        var products = new CpuGemv.Product[layers.Length];
        for (var i = 0; i < layers.Length; i++)
            products[i] = new CpuGemv.Product((ushort*)TensorMemory.DataPointer(layers[i].Weight), (int)layers[i].Weight.shape[0],
                layers[i].Bias is { } bias ? (ushort*)TensorMemory.DataPointer(bias) : null, (ushort*)TensorMemory.DataPointer(outputs[i]));
        CpuGemv.MultiplyBf16((ushort*)TensorMemory.DataPointer(x), (int)(x.numel() / k), (int)k, products, get_num_threads());
        return outputs;
    }

    /// <summary>Whether <see cref="Linear"/> sends this product through CpuGemv (CPU, bfloat16 x, W and bias, 1-2 rows, contiguous W and bias).</summary>
    public static bool TakesCpuGemv(Tensor input, Tensor weight, Tensor? bias = null) =>
        UseGemvOnCpu && input.device_type == DeviceType.CPU && weight.device_type == DeviceType.CPU
        && weight.dim() == 2 && input.dim() >= 1 && input.shape[^1] == weight.shape[1]
        && weight.dtype == ScalarType.BFloat16 && input.dtype == ScalarType.BFloat16
        && weight.is_contiguous() && (bias is null || (bias.dtype == ScalarType.BFloat16 && bias.is_contiguous() && bias.device_type == DeviceType.CPU)) && input.numel() / weight.shape[1] is >= 1 and <= CpuGemv.MaxRows
        && weight.shape[0] <= int.MaxValue && weight.shape[1] <= int.MaxValue;
}
