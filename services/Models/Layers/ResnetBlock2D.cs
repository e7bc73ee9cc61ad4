// Port of diffusers/models/resnet.py ResnetBlock2D at v0.25.1 (the "default" time-embedding norm, as SD 1.x/2.x use it).
// Module fields are checkpoint keys (down_blocks.0.resnets.0.norm1.weight, ...): never rename them.
// Deviations: inference only (no dropout); no up/down-sampling inside the block, no FIR kernels, no scale-shift norm.
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Models.Layers;

/// <summary>
/// GroupNorm → act → conv → (+ projected time embedding) → GroupNorm → act → conv, plus a residual that a 1×1 conv
/// (<c>conv_shortcut</c>) adapts when the channel count changes. Shared by the UNet and the VAE (which has no temb).
/// </summary>
public sealed class ResnetBlock2D : Module<Tensor, Tensor?, Tensor>
{
    private readonly GroupNorm norm1;
    private readonly PortableConv2d conv1;
    private readonly Linear? time_emb_proj;
    private readonly GroupNorm norm2;
    private readonly PortableConv2d conv2;
    private readonly PortableConv2d? conv_shortcut;
    private readonly string _act;
    private readonly double _outputScaleFactor;

    /// <param name="tembChannels">Width of the time embedding, or null for blocks without one (the VAE's).</param>
    public ResnetBlock2D(long inChannels, long outChannels, long? tembChannels, long groups, double eps, string act,
        double outputScaleFactor = 1.0, Device? device = null) : base(nameof(ResnetBlock2D))
    {
        _act = act;
        _outputScaleFactor = outputScaleFactor;
        norm1 = GroupNorm(groups, inChannels, eps: eps, affine: true, device: device);
        conv1 = new PortableConv2d(inChannels, outChannels, kernel_size: 3, stride: 1, padding: 1, device: device);
        if (tembChannels is { } temb)
            time_emb_proj = Linear(temb, outChannels, device: device);
        norm2 = GroupNorm(groups, outChannels, eps: eps, affine: true, device: device);
        conv2 = new PortableConv2d(outChannels, outChannels, kernel_size: 3, stride: 1, padding: 1, device: device);
        if (inChannels != outChannels)
            conv_shortcut = new PortableConv2d(inChannels, outChannels, kernel_size: 1, stride: 1, padding: 0L, device: device);
        RegisterComponents();
    }

    // input_tensor: (B, Cin, H, W); temb: (B, T) or null → (B, Cout, H, W)
    /// <summary>
    /// <paramref name="resnets"/> one after another on <paramref name="hidden_states"/> (each intermediate freed at
    /// once); the caller keeps its input. A block of the VAE, which runs its resnets back to back.
    /// </summary>
    public static Tensor Chain(IEnumerable<ResnetBlock2D> resnets, Tensor hidden_states, Tensor? temb = null)
    {
        var h = hidden_states.alias();
        foreach (var resnet in resnets)
        {
            using var previous = h;
            h = resnet.call(previous, temb);
        }
        return h;
    }

    public override Tensor forward(Tensor input_tensor, Tensor? temb)
    {
        Tensor hidden_states;
        using (var normed = DiffusersActivation.ApplyInPlace(_act, norm1.call(input_tensor)))
            hidden_states = conv1.call(normed);                                                   // (B, Cout, H, W)

        if (time_emb_proj is not null && temb is not null)
        {
            using var activated = DiffusersActivation.Apply(_act, temb);
            using var projected = time_emb_proj.call(activated);                                  // (B, Cout)
            using var broadcast = projected.view(projected.shape[0], -1, 1, 1);                   // (B, Cout, 1, 1)
            hidden_states.add_(broadcast);
        }

        using (var beforeNorm2 = hidden_states)
        using (var normed = DiffusersActivation.ApplyInPlace(_act, norm2.call(beforeNorm2)))
            hidden_states = conv2.call(normed);                                                   // (B, Cout, H, W)

        if (conv_shortcut is not null)
        {
            using var shortcut = conv_shortcut.call(input_tensor);
            hidden_states.add_(shortcut);
        }
        else
        {
            hidden_states.add_(input_tensor);
        }
        // (input_tensor + hidden_states) / output_scale_factor; addition commutes, so in place is the same sum.
        return _outputScaleFactor == 1.0 ? hidden_states : hidden_states.div_(_outputScaleFactor);
    }
}
