// Port of diffusers/models/unets/unet_2d_blocks.py at v0.25.1: CrossAttnDownBlock2D, DownBlock2D,
// UNetMidBlock2DCrossAttn, CrossAttnUpBlock2D, UpBlock2D (the blocks of SD 1.x/2.x).
// Fields are checkpoint keys (down_blocks.0.resnets.1.conv1.weight, up_blocks.1.attentions.2.proj_in.weight, ...).
// Deviations: inference only; no dual cross-attention, no FreeU, no LoRA scale, no gradient checkpointing.
using TorchSharp.Modules;
using MultiModal.Models.Layers;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Models.Unet;

/// <summary>What every down block shares with the others; the UNet holds them in one list.</summary>
internal abstract class UNetDownBlock(string name) : Module(name)
{
    /// <summary>
    /// Runs the block on <paramref name="hidden_states"/> (not consumed) and appends each resnet/attention output and the
    /// downsampled map to <paramref name="output_states"/>, the skip connections, which then own them. Returns the last.
    /// </summary>
    public abstract Tensor Forward(Tensor hidden_states, Tensor temb, Tensor? encoder_hidden_states, List<Tensor> output_states);
}

/// <summary>What every up block shares with the others.</summary>
internal abstract class UNetUpBlock(string name) : Module(name)
{
    /// <summary>Number of resnets, i.e. of skip connections this block consumes.</summary>
    public abstract int NumResnets { get; }

    /// <summary>
    /// Runs the block on <paramref name="hidden_states"/> (not consumed), concatenating the skip connections
    /// <paramref name="res_hidden_states"/> from the last to the first; returns a new tensor.
    /// </summary>
    public abstract Tensor Forward(Tensor hidden_states, IReadOnlyList<Tensor> res_hidden_states, Tensor temb,
        Tensor? encoder_hidden_states, long[]? upsample_size);
}

/// <summary>Shapes every block is built with (diffusers passes these to get_down_block / get_up_block).</summary>
internal sealed record UNetBlockSpec(
    long NumLayers, long TransformerLayers, long TembChannels, long Groups, double Eps, string Act,
    double OutputScaleFactor, long CrossAttentionDim, long NumAttentionHeads, bool UseLinearProjection, bool UpcastAttention);

/// <summary>
/// CrossAttnDownBlock2D and DownBlock2D: resnets, each followed by a transformer when the block has cross-attention,
/// then an optional downsampler. Protected fields, so RegisterComponents on the subclass sees them.
/// </summary>
internal abstract class DownBlock2DBase : UNetDownBlock
{
    protected readonly ModuleList<ResnetBlock2D> resnets = new();
    protected readonly ModuleList<Transformer2DModel>? attentions;
    protected readonly ModuleList<Downsample2D>? downsamplers;

    protected DownBlock2DBase(string name, bool crossAttention, long inChannels, long outChannels, bool addDownsample,
        long downsamplePadding, UNetBlockSpec s, Device? device) : base(name)
    {
        if (crossAttention) attentions = new();
        for (var i = 0; i < s.NumLayers; i++)
        {
            resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, s.TembChannels, s.Groups, s.Eps, s.Act, s.OutputScaleFactor, device));
            attentions?.Add(new Transformer2DModel(s.NumAttentionHeads, outChannels / s.NumAttentionHeads, outChannels,
                s.TransformerLayers, s.CrossAttentionDim, s.Groups, s.UseLinearProjection, s.UpcastAttention, device));
        }
        if (addDownsample)
            downsamplers = new ModuleList<Downsample2D>([new Downsample2D(outChannels, outChannels, downsamplePadding, device)]);
        RegisterComponents();
    }

    public override Tensor Forward(Tensor hidden_states, Tensor temb, Tensor? encoder_hidden_states, List<Tensor> output_states)
    {
        var h = hidden_states;
        for (var i = 0; i < resnets.Count; i++)
        {
            var resnetOut = resnets[i].call(h, temb);
            if (attentions is null)
            {
                h = resnetOut;
            }
            else
            {
                using (resnetOut)
                    h = attentions[i].call(resnetOut, encoder_hidden_states);
            }
            output_states.Add(h);
        }
        if (downsamplers is not null)
        {
            h = downsamplers[0].call(h);
            output_states.Add(h);
        }
        return h;
    }
}

internal sealed class CrossAttnDownBlock2D(long inChannels, long outChannels, bool addDownsample, long downsamplePadding,
    UNetBlockSpec s, Device? device = null)
    : DownBlock2DBase(nameof(CrossAttnDownBlock2D), crossAttention: true, inChannels, outChannels, addDownsample, downsamplePadding, s, device);

internal sealed class DownBlock2D(long inChannels, long outChannels, bool addDownsample, long downsamplePadding,
    UNetBlockSpec s, Device? device = null)
    : DownBlock2DBase(nameof(DownBlock2D), crossAttention: false, inChannels, outChannels, addDownsample, downsamplePadding, s, device);

/// <summary>resnets.0, then (attention, resnet) pairs, all at the innermost width.</summary>
internal sealed class UNetMidBlock2DCrossAttn : Module<Tensor, Tensor, Tensor?, Tensor>
{
    private readonly ModuleList<Transformer2DModel> attentions = new();
    private readonly ModuleList<ResnetBlock2D> resnets = new();

    public UNetMidBlock2DCrossAttn(long inChannels, UNetBlockSpec s, Device? device = null) : base(nameof(UNetMidBlock2DCrossAttn))
    {
        resnets.Add(new ResnetBlock2D(inChannels, inChannels, s.TembChannels, s.Groups, s.Eps, s.Act, s.OutputScaleFactor, device));
        for (var i = 0; i < s.NumLayers; i++)
        {
            attentions.Add(new Transformer2DModel(s.NumAttentionHeads, inChannels / s.NumAttentionHeads, inChannels,
                s.TransformerLayers, s.CrossAttentionDim, s.Groups, s.UseLinearProjection, s.UpcastAttention, device));
            resnets.Add(new ResnetBlock2D(inChannels, inChannels, s.TembChannels, s.Groups, s.Eps, s.Act, s.OutputScaleFactor, device));
        }
        RegisterComponents();
    }

    // (B, C, H, W) → (B, C, H, W), a new tensor
    public override Tensor forward(Tensor hidden_states, Tensor temb, Tensor? encoder_hidden_states)
    {
        var h = resnets[0].call(hidden_states, temb);
        for (var i = 0; i < attentions.Count; i++)
        {
            using (var resnetIn = h)
            using (var attended = attentions[i].call(resnetIn, encoder_hidden_states))
                h = resnets[i + 1].call(attended, temb);
        }
        return h;
    }
}

/// <summary>
/// CrossAttnUpBlock2D and UpBlock2D: for each resnet, the next skip connection concatenated on, the resnet, and a
/// transformer when the block has cross-attention; then an optional upsampler.
/// </summary>
internal abstract class UpBlock2DBase : UNetUpBlock
{
    protected readonly ModuleList<ResnetBlock2D> resnets = new();
    protected readonly ModuleList<Transformer2DModel>? attentions;
    protected readonly ModuleList<Upsample2D>? upsamplers;

    protected UpBlock2DBase(string name, bool crossAttention, long inChannels, long outChannels, long prevOutputChannel,
        bool addUpsample, UNetBlockSpec s, Device? device) : base(name)
    {
        if (crossAttention) attentions = new();
        for (var i = 0; i < s.NumLayers; i++)
        {
            var resSkipChannels = i == s.NumLayers - 1 ? inChannels : outChannels;
            var resnetInChannels = i == 0 ? prevOutputChannel : outChannels;
            resnets.Add(new ResnetBlock2D(resnetInChannels + resSkipChannels, outChannels, s.TembChannels, s.Groups, s.Eps, s.Act, s.OutputScaleFactor, device));
            attentions?.Add(new Transformer2DModel(s.NumAttentionHeads, outChannels / s.NumAttentionHeads, outChannels,
                s.TransformerLayers, s.CrossAttentionDim, s.Groups, s.UseLinearProjection, s.UpcastAttention, device));
        }
        if (addUpsample)
            upsamplers = new ModuleList<Upsample2D>([new Upsample2D(outChannels, outChannels, device)]);
        RegisterComponents();
    }

    public override int NumResnets => resnets.Count;

    public override Tensor Forward(Tensor hidden_states, IReadOnlyList<Tensor> res_hidden_states, Tensor temb,
        Tensor? encoder_hidden_states, long[]? upsample_size)
    {
        var h = hidden_states.alias();
        for (var i = 0; i < resnets.Count; i++)
        {
            var skip = res_hidden_states[res_hidden_states.Count - 1 - i];                     // popped from the end
            using var previous = h;
            using var joined = cat([previous, skip], dim: 1);                                   // (B, C + Cskip, H, W)
            var resnetOut = resnets[i].call(joined, temb);
            if (attentions is null)
            {
                h = resnetOut;
            }
            else
            {
                using (resnetOut)
                    h = attentions[i].call(resnetOut, encoder_hidden_states);
            }
        }
        if (upsamplers is null)
            return h;
        using (h)
            return upsamplers[0].call(h, upsample_size);
    }
}

internal sealed class CrossAttnUpBlock2D(long inChannels, long outChannels, long prevOutputChannel, bool addUpsample,
    UNetBlockSpec s, Device? device = null)
    : UpBlock2DBase(nameof(CrossAttnUpBlock2D), crossAttention: true, inChannels, outChannels, prevOutputChannel, addUpsample, s, device);

internal sealed class UpBlock2D(long inChannels, long outChannels, long prevOutputChannel, bool addUpsample,
    UNetBlockSpec s, Device? device = null)
    : UpBlock2DBase(nameof(UpBlock2D), crossAttention: false, inChannels, outChannels, prevOutputChannel, addUpsample, s, device);
