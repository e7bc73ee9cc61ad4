// Port of diffusers/models/autoencoders/autoencoder_kl.py AutoencoderKL and vae.py Encoder / Decoder, with
// unet_2d_blocks.py DownEncoderBlock2D, UpDecoderBlock2D and UNetMidBlock2D, at v0.25.1.
// Module fields are checkpoint keys (encoder.down_blocks.0.resnets.0.conv1.weight, decoder.mid_block.attentions.0.to_q...)
// in diffusers ≥ 0.21 names; older files' query/key/value/proj_attn are renamed by Weights/KeyRemaps.cs.
// Deviations: inference only; no tiling or slicing, no spatial-norm decoder (MoVQ), no gradient checkpointing.
using TorchSharp;
using TorchSharp.Modules;
using MultiModal.Models.Layers;
using MultiModal.Models.Weights;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Models.Vae;

/// <summary>Resnets without time embedding, then a padded stride-2 conv (all but the last block).</summary>
internal sealed class DownEncoderBlock2D : Module<Tensor, Tensor>
{
    private readonly ModuleList<ResnetBlock2D> resnets = new();
    private readonly ModuleList<Downsample2D>? downsamplers;

    public DownEncoderBlock2D(long inChannels, long outChannels, long numLayers, bool addDownsample, long groups,
        string act, Device? device = null) : base(nameof(DownEncoderBlock2D))
    {
        for (var i = 0; i < numLayers; i++)
            resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, null, groups, 1e-6, act, device: device));
        if (addDownsample)
            // downsample_padding = 0: Downsample2D pads (0, 1, 0, 1) itself, as the original LDM encoder does.
            downsamplers = new ModuleList<Downsample2D>([new Downsample2D(outChannels, outChannels, padding: 0, device)]);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden_states)
    {
        var h = ResnetBlock2D.Chain(resnets, hidden_states);
        if (downsamplers is null)
            return h;
        using (h)
            return downsamplers[0].call(h);
    }
}

/// <summary>Resnets without time embedding, then nearest ×2 and a conv (all but the last block).</summary>
internal sealed class UpDecoderBlock2D : Module<Tensor, Tensor>
{
    private readonly ModuleList<ResnetBlock2D> resnets = new();
    private readonly ModuleList<Upsample2D>? upsamplers;

    public UpDecoderBlock2D(long inChannels, long outChannels, long numLayers, bool addUpsample, long groups,
        string act, Device? device = null) : base(nameof(UpDecoderBlock2D))
    {
        for (var i = 0; i < numLayers; i++)
            resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, null, groups, 1e-6, act, device: device));
        if (addUpsample)
            upsamplers = new ModuleList<Upsample2D>([new Upsample2D(outChannels, outChannels, device)]);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden_states)
    {
        var h = ResnetBlock2D.Chain(resnets, hidden_states);
        if (upsamplers is null)
            return h;
        using (h)
            return upsamplers[0].call(h, null);
    }
}

/// <summary>resnet → single-head spatial self-attention (GroupNorm inside, residual) → resnet, at the innermost width.</summary>
internal sealed class UNetMidBlock2D : Module<Tensor, Tensor>
{
    private readonly ModuleList<Attention> attentions = new();
    private readonly ModuleList<ResnetBlock2D> resnets = new();

    public UNetMidBlock2D(long channels, long groups, string act, Device? device = null) : base(nameof(UNetMidBlock2D))
    {
        resnets.Add(new ResnetBlock2D(channels, channels, null, groups, 1e-6, act, device: device));
        // attention_head_dim = channels, so one head of the full width; q/k/v have biases (the old AttentionBlock).
        attentions.Add(new Attention(channels, heads: 1, dimHead: channels, bias: true, normNumGroups: groups, eps: 1e-6,
            residualConnection: true, device: device));
        resnets.Add(new ResnetBlock2D(channels, channels, null, groups, 1e-6, act, device: device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden_states)
    {
        using var first = resnets[0].call(hidden_states, null);
        using var attended = attentions[0].call(first, null);
        return resnets[1].call(attended, null);
    }
}

/// <summary>Image (B, 3, H, W) in [-1, 1] → [mean | logvar] features (B, 2·latent, H/f, W/f), before quant_conv.</summary>
internal sealed class Encoder : Module<Tensor, Tensor>
{
    private readonly PortableConv2d conv_in;
    private readonly ModuleList<DownEncoderBlock2D> down_blocks = new();
    private readonly UNetMidBlock2D mid_block;
    private readonly GroupNorm conv_norm_out;
    private readonly PortableConv2d conv_out;
    private readonly string _act;

    public Encoder(AutoencoderKLConfig c, Device? device = null) : base(nameof(Encoder))
    {
        _act = c.ActFn;
        var channels = c.BlockOutChannels;
        conv_in = new PortableConv2d(c.InChannels, channels[0], kernel_size: 3, stride: 1, padding: 1, device: device);
        var outputChannel = channels[0];
        for (var i = 0; i < channels.Length; i++)
        {
            var inputChannel = outputChannel;
            outputChannel = channels[i];
            down_blocks.Add(new DownEncoderBlock2D(inputChannel, outputChannel, c.LayersPerBlock, i != channels.Length - 1,
                c.NormNumGroups, c.ActFn, device));
        }
        mid_block = new UNetMidBlock2D(channels[^1], c.NormNumGroups, c.ActFn, device);
        conv_norm_out = GroupNorm(c.NormNumGroups, channels[^1], eps: 1e-6, affine: true, device: device);
        conv_out = new PortableConv2d(channels[^1], 2 * c.LatentChannels, kernel_size: 3, stride: 1, padding: 1, device: device);  // double_z
        RegisterComponents();
    }

    public override Tensor forward(Tensor sample)
    {
        var h = conv_in.call(sample);                                                   // (B, C0, H, W)
        foreach (var block in down_blocks)
        {
            using var previous = h;
            h = block.call(previous);                                                   // (B, Ci, H/2^i, W/2^i)
        }
        using (var previous = h)
            h = mid_block.call(previous);
        using (h)
        using (var normed = DiffusersActivation.ApplyInPlace(_act, conv_norm_out.call(h)))
            return conv_out.call(normed);                                               // (B, 2·latent, h, w)
    }
}

/// <summary>Latent (B, latent, h, w) after post_quant_conv → image (B, 3, h·f, w·f), roughly in [-1, 1].</summary>
internal sealed class Decoder : Module<Tensor, Tensor>
{
    private readonly PortableConv2d conv_in;
    private readonly UNetMidBlock2D mid_block;
    private readonly ModuleList<UpDecoderBlock2D> up_blocks = new();
    private readonly GroupNorm conv_norm_out;
    private readonly PortableConv2d conv_out;
    private readonly string _act;

    public Decoder(AutoencoderKLConfig c, Device? device = null) : base(nameof(Decoder))
    {
        _act = c.ActFn;
        var reversed = c.BlockOutChannels.Reverse().ToArray();
        conv_in = new PortableConv2d(c.LatentChannels, reversed[0], kernel_size: 3, stride: 1, padding: 1, device: device);
        mid_block = new UNetMidBlock2D(reversed[0], c.NormNumGroups, c.ActFn, device);
        var outputChannel = reversed[0];
        for (var i = 0; i < reversed.Length; i++)
        {
            var prevOutputChannel = outputChannel;
            outputChannel = reversed[i];
            up_blocks.Add(new UpDecoderBlock2D(prevOutputChannel, outputChannel, c.LayersPerBlock + 1, i != reversed.Length - 1,
                c.NormNumGroups, c.ActFn, device));
        }
        conv_norm_out = GroupNorm(c.NormNumGroups, c.BlockOutChannels[0], eps: 1e-6, affine: true, device: device);
        conv_out = new PortableConv2d(c.BlockOutChannels[0], c.OutChannels, kernel_size: 3, stride: 1, padding: 1, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor z)
    {
        var h = conv_in.call(z);                                                        // (B, C_last, h, w)
        using (var previous = h)
            h = mid_block.call(previous);
        foreach (var block in up_blocks)
        {
            using var previous = h;
            h = block.call(previous);
        }
        using (h)
        using (var normed = DiffusersActivation.ApplyInPlace(_act, conv_norm_out.call(h)))
            return conv_out.call(normed);                                               // (B, 3, H, W)
    }
}

/// <summary>
/// The KL-regularised autoencoder of Stable Diffusion: <see cref="Encode"/> an image to a latent distribution and
/// <see cref="Decode"/> latents back to an image. Scaling by <c>scaling_factor</c> is the pipeline's job.
/// </summary>
public sealed class AutoencoderKL : Module
{
    private readonly Encoder encoder;
    private readonly Decoder decoder;
    private readonly PortableConv2d quant_conv;
    private readonly PortableConv2d post_quant_conv;

    public AutoencoderKLConfig Config { get; }

    public AutoencoderKL(AutoencoderKLConfig config, Device? device = null) : base(nameof(AutoencoderKL))
    {
        config.Validate();
        Config = config;
        encoder = new Encoder(config, device);
        decoder = new Decoder(config, device);
        quant_conv = new PortableConv2d(2 * config.LatentChannels, 2 * config.LatentChannels, kernel_size: 1, device: device);
        post_quant_conv = new PortableConv2d(config.LatentChannels, config.LatentChannels, kernel_size: 1, device: device);
        RegisterComponents();
    }

    /// <summary>
    /// Loads a diffusers <c>vae/</c> folder (<c>config.json</c> + <c>diffusion_pytorch_model[.variant].safetensors</c>)
    /// strictly, on <paramref name="device"/> in <paramref name="dtype"/>, in eval mode. Files from diffusers &lt; 0.21
    /// (SD 1.5's published VAE) name the mid-block attention query/key/value/proj_attn: see <see cref="KeyRemaps"/>.
    /// </summary>
    public static AutoencoderKL Load(string folder, Device device, ScalarType dtype, string? variant = null)
    {
        var config = AutoencoderKLConfig.Load(Path.Combine(folder, "config.json"));
        var checkpoint = SafeTensorsCheckpoint.Open(folder, "diffusion_pytorch_model", variant);
        var model = new AutoencoderKL(config, META);
        StateDictLoader.Materialize("AutoencoderKL", model, checkpoint, device, dtype, remap: KeyRemaps.VaeLegacyAttention(checkpoint));
        ChannelsLast.UseForConvolutions(model);
        model.eval();
        return model;
    }

    /// <summary>The model's dtype (that of its weights).</summary>
    public ScalarType DType => quant_conv.DType;

    /// <summary>Image (B, in_channels, H, W) in [-1, 1], H and W multiples of the scale factor → posterior over latents.</summary>
    public DiagonalGaussian Encode(Tensor x)
    {
        var f = Config.ScaleFactor;
        if (x.dim() != 4 || x.shape[1] != Config.InChannels || x.shape[2] % f != 0 || x.shape[3] % f != 0)
            throw new ArgumentException(
                $"VAE input must be (B, {Config.InChannels}, H, W) with H and W multiples of {f}; got [{string.Join(", ", x.shape)}].", nameof(x));
        using var h = encoder.call(x);
        using var moments = quant_conv.call(h);                                         // (B, 2·latent, H/f, W/f)
        return new DiagonalGaussian(moments.contiguous());
    }

    /// <summary>Latents (B, latent_channels, h, w), already divided by scaling_factor → image (B, out_channels, h·f, w·f).</summary>
    public Tensor Decode(Tensor z)
    {
        if (z.dim() != 4 || z.shape[1] != Config.LatentChannels)
            throw new ArgumentException($"VAE latents must be (B, {Config.LatentChannels}, h, w); got [{string.Join(", ", z.shape)}].", nameof(z));
        using var h = post_quant_conv.call(z);
        using var image = decoder.call(h);                                              // (B, Cout, H, W)
        return image.contiguous();   // (B, C, H, W) memory whatever layout the convolutions ran in
    }
}
