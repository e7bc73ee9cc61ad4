// torch.nn.Linear (weight (out, in), bias (out)) with the same state-dict keys and default init, which a serving runner
// may pack for inference on the CPU: float32 products then go through a second copy of W packed once (LinearPacking:
// oneMKL's packed GEMM, or the panel kernel for products of few rows) instead of libtorch re-packing W on every call.
// Everything else (no pack, a graph being recorded, other dtypes or devices, more rows than the panels take) is
// functional.linear. The pack is dropped when the module is switched to training, and a runner packs only models it
// will not train.
using MultiModal.Models.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Models.Layers;

/// <summary>A linear layer whose float32 CPU products can use a weight packed once.</summary>
public sealed class PackedLinear : Module<Tensor, Tensor>, IPacksForInference
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private MklPackedMatrix? _packed;
    private PanelPackedMatrix? _panels;

    public PackedLinear(long inFeatures, long outFeatures, bool hasBias = true, Device? device = null) : base(nameof(PackedLinear))
    {
        weight = new Parameter(empty(outFeatures, inFeatures, device: device));
        if (hasBias)
            bias = new Parameter(empty(outFeatures, device: device));
        DefaultInit.Uniform(weight, bias, inFeatures);
        RegisterComponents();
    }

    /// <summary>The weight, (out, in).</summary>
    internal Tensor Weight => weight;

    /// <summary>The bias, (out), or null.</summary>
    internal Tensor? Bias => bias;

    /// <summary>Whether products currently go through the packed weight.</summary>
    public bool IsPacked => _packed is not null || _panels is not null;

    // input: (…, in) → (…, out)
    public override Tensor forward(Tensor input)
    {
        if ((_packed is null && _panels is null) || is_grad_enabled() || input.device_type != DeviceType.CPU || input.dtype != ScalarType.Float32)
            return functional.linear(input, weight, bias);
        if (_packed is not null)
            return _packed.Multiply(input, bias);
        return input.numel() / weight.shape[1] <= PanelPackedMatrix.MaxRows
            ? _panels!.Multiply(input, bias, get_num_threads())
            : functional.linear(input, weight, bias);
    }

    /// <summary>
    /// Packs the weight when it is float32 on the CPU and the packing can run here (<see cref="LinearPackings.Default"/>
    /// when none is named); otherwise nothing changes. Call after loading, for a model that only serves.
    /// </summary>
    public void PackForInference(LinearPacking? packing = null)
    {
        if (IsPacked || weight.device_type != DeviceType.CPU || weight.dtype != ScalarType.Float32)
            return;
        switch (packing ?? LinearPackings.Default)
        {
            case LinearPacking.OneMkl when MklPackedMatrix.Available:
                _packed = MklPackedMatrix.Pack(weight);
                break;
            case LinearPacking.Panels when PanelPackedMatrix.Supported:
                _panels = PanelPackedMatrix.Pack(weight);
                break;
        }
    }

    public override void train(bool on = true)
    {
        if (on)
            DropPack();
        base.train(on);
    }

    protected override void Dispose(bool disposing)
    {
        DropPack();
        base.Dispose(disposing);
    }

    private void DropPack()
    {
        _packed?.Dispose();
        _packed = null;
        _panels?.Dispose();
        _panels = null;
    }
}
