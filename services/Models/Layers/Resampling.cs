// Port of diffusers/models/downsampling.py Downsample2D and upsampling.py Upsample2D at v0.25.1, conv variants only
// (use_conv=True: the only ones SD's UNet and VAE use). Fields are checkpoint keys (downsamplers.0.conv.weight, ...).
// Deviations: no avg-pool / transposed-conv variants, no LoRA scale; the bfloat16 round trip diffusers does around
// interpolate (an old-PyTorch kernel gap) is not needed, nearest-neighbour copying is exact in any dtype.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Models.Layers;

/// <summary>Stride-2 3×3 conv. With <c>padding = 0</c> (the VAE) the input is first padded by one on the right and bottom only.</summary>
public sealed class Downsample2D : Module<Tensor, Tensor>
{
    private readonly PortableConv2d conv;
    private readonly long _padding;

    public Downsample2D(long channels, long outChannels, long padding, Device? device = null) : base(nameof(Downsample2D))
    {
        _padding = padding;
        conv = new PortableConv2d(channels, outChannels, kernel_size: 3, stride: 2, padding: padding, device: device);
        RegisterComponents();
    }

    // (B, C, H, W) → (B, Cout, ⌈H/2⌉, ⌈W/2⌉)
    public override Tensor forward(Tensor hidden_states)
    {
        if (_padding != 0)
            return conv.call(hidden_states);
        // diffusers: F.pad(hidden_states, (0, 1, 0, 1), value=0), the asymmetric pad of the original LDM code.
        using var padded = functional.pad(hidden_states, (0L, 1L, 0L, 1L), PaddingModes.Constant, 0.0);
        return conv.call(padded);
    }
}

/// <summary>Nearest-neighbour ×2 (or to an explicit size), then a 3×3 conv.</summary>
public sealed class Upsample2D : Module<Tensor, long[]?, Tensor>
{
    private readonly PortableConv2d conv;

    public Upsample2D(long channels, long outChannels, Device? device = null) : base(nameof(Upsample2D))
    {
        conv = new PortableConv2d(channels, outChannels, kernel_size: 3, stride: 1, padding: 1, device: device);
        RegisterComponents();
    }

    // (B, C, H, W) → (B, Cout, 2H, 2W), or (B, Cout, outputSize[0], outputSize[1]) when the UNet asks for a size
    // (odd latent sizes: the skip connection's spatial size wins).
    public override Tensor forward(Tensor hidden_states, long[]? outputSize)
    {
        using var upsampled = outputSize is null
            ? functional.interpolate(hidden_states, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest)
            : functional.interpolate(hidden_states, size: outputSize, mode: InterpolationMode.Nearest);
        return conv.call(upsampled);
    }
}
