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
        TakesCpuGemv(input, weight) ? CpuLinear(input, [(weight, bias)])[0] : functional.linear(input, weight, bias);

    /// <summary>
    /// Each layer applied to the same input (a layer's q, k and v projections; gate and up): what <c>layer.call(input)</c>
    /// gives for each, in one CpuGemv pass when all of them are decode-shaped (one fork and join instead of one per layer).
    /// </summary>
    public static Tensor[] Project(Tensor input, params GemvLinear[] layers) =>
        layers.All(layer => TakesCpuGemv(input, layer.weight))
            ? CpuLinear(input, [.. layers.Select(layer => ((Tensor)layer.weight, (Tensor?)layer.bias))])
            : [.. layers.Select(layer => layer.call(input))];

    private static unsafe Tensor[] CpuLinear(Tensor input, (Tensor Weight, Tensor? Bias)[] layers)
    {
        long k = input.shape[^1];
        using var scope = NewDisposeScope();
        var x = input.to(ScalarType.Float32).contiguous();
        var outputs = layers.Select(layer => empty([.. input.shape[..^1], layer.Weight.shape[0]], ScalarType.Float32)).ToArray();
        var products = new CpuGemv.Product[layers.Length];
        for (var i = 0; i < layers.Length; i++)
            products[i] = new CpuGemv.Product((ushort*)TensorMemory.DataPointer(layers[i].Weight), (int)layers[i].Weight.shape[0],
                (float*)TensorMemory.DataPointer(outputs[i]));
        CpuGemv.MultiplyBf16((float*)TensorMemory.DataPointer(x), (int)(x.numel() / k), (int)k, products, get_num_threads());
        for (var i = 0; i < layers.Length; i++)
            if (layers[i].Bias is { } bias)
                outputs[i].add_(bias);
        return [.. outputs.Select(y => y.to(input.dtype).MoveToOuterDisposeScope())];
    }

    /// <summary>Whether <see cref="Linear"/> sends this product through CpuGemv (CPU, bfloat16, 1-2 rows, contiguous W).</summary>
    public static bool TakesCpuGemv(Tensor input, Tensor weight) =>
        UseGemvOnCpu && input.device_type == DeviceType.CPU && weight.device_type == DeviceType.CPU
        && weight.dim() == 2 && input.dim() >= 1 && input.shape[^1] == weight.shape[1]
        && weight.dtype == ScalarType.BFloat16 && input.dtype == ScalarType.BFloat16
        && weight.is_contiguous() && input.numel() / weight.shape[1] is >= 1 and <= CpuGemv.MaxRows
        && weight.shape[0] <= int.MaxValue && weight.shape[1] <= int.MaxValue;
}
