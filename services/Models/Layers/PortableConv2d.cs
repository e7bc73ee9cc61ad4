// torch.nn.Conv2d (weight (Cout, Cin, kH, kW), bias (Cout)) with the same state-dict keys, the same default init and the
// same numbers on every CPU. Why not TorchSharp's Conv2d: libtorch 2.10's oneDNN bfloat16 convolution on AVX-512 CPUs
// (AMD Zen 5 here; ONEDNN_MAX_CPU_ISA=AVX512_CORE_VNNI too, so not only the avx512_bf16 kernels) computes k×k (k > 1)
// convolutions whose output-channel count is not a multiple of 16 wrongly: cosine 0.79–0.99 to the float32 result
// (SD's UNet conv_out, 4 channels: 0.95), where every other op stays above 0.99999 (tests/Golden/Diffusion/
// ReducedPrecisionTests pins both). On AVX2 libtorch takes another kernel and is right; PyTorch 1.13 is right on both.
// Such convolutions (SD's latent-facing conv_out/conv_in-sized layers: 3, 4 or 8 channels) are cheap, so they run in
// float32 and round once to the module's dtype; every other convolution goes straight to libtorch.
// Training has the same hole in float32: the backward of such a convolution (k > 1, output channels not a multiple of
// 16) gave input gradients off by 0.3 or NaN on the same CPU (tests/Unit/Layers/PortableConv2dTests.Backward_…; a UNet
// training step's every gradient upstream of its 4-channel conv_out was NaN). With a graph being recorded those
// convolutions run with zero output channels appended up to the next multiple of 16 and the extra ones cut off.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Models.Layers;

/// <summary>A 2-D convolution (square kernel, stride and padding) that half-precision CPU kernels cannot get wrong.</summary>
public sealed class PortableConv2d : Module<Tensor, Tensor>
{
    // oneDNN's AVX-512 convolutions block output channels by 16; the tail block is the one computed wrongly.
    private const long OutputChannelBlock = 16;

    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly long[] _stride, _padding;
    private readonly bool _outputChannelsInTailBlock;

    public PortableConv2d(long inChannels, long outChannels, long kernel_size, long stride = 1, long padding = 0,
        bool bias = true, Device? device = null) : base(nameof(PortableConv2d))
    {
        (_stride, _padding) = ([stride, stride], [padding, padding]);
        _outputChannelsInTailBlock = kernel_size > 1 && outChannels % OutputChannelBlock != 0;
        // Trainable like torch.nn.Conv2d's (services/Training); the inference paths run under inference_mode.
        weight = new Parameter(empty(outChannels, inChannels, kernel_size, kernel_size, device: device));
        if (bias)
            this.bias = new Parameter(empty(outChannels, device: device));
        DefaultInit.Uniform(weight, this.bias, inChannels * kernel_size * kernel_size);
        RegisterComponents();
    }

    public ScalarType DType => weight.dtype;

    // input: (B, Cin, H, W) → (B, Cout, H', W')
    public override Tensor forward(Tensor input)
    {
        if (!_outputChannelsInTailBlock || input.device_type != DeviceType.CPU)
            return functional.conv2d(input, weight, bias, _stride, _padding);
        if (is_grad_enabled())
            return PaddedToWholeBlocks(input);
        if (input.dtype is not (ScalarType.BFloat16 or ScalarType.Float16))
            return functional.conv2d(input, weight, bias, _stride, _padding);
        using var scope = NewDisposeScope();
        var output = functional.conv2d(input.to(ScalarType.Float32), weight.to(ScalarType.Float32),
            bias?.to(ScalarType.Float32), _stride, _padding);
        return output.to(input.dtype).MoveToOuterDisposeScope();
    }

    // The convolution with zero output channels appended up to a multiple of OutputChannelBlock, then cut back: the same
    // outputs, and a backward libtorch computes right (gradients flow to weight and bias through the concatenation).
    private Tensor PaddedToWholeBlocks(Tensor input)
    {
        using var scope = NewDisposeScope();
        long outChannels = weight.shape[0], extra = OutputChannelBlock - outChannels % OutputChannelBlock;
        var paddedWeight = cat([weight, zeros([extra, .. weight.shape[1..]], weight.dtype, weight.device)], dim: 0);
        var paddedBias = bias is null ? null : cat([bias, zeros([extra], bias.dtype, bias.device)], dim: 0);
        var output = functional.conv2d(input, paddedWeight, paddedBias, _stride, _padding);
        return output.narrow(1, 0, outChannels).MoveToOuterDisposeScope();
    }
}
