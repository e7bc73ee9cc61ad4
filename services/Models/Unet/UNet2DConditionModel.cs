// Port of diffusers/models/unets/unet_2d_condition.py UNet2DConditionModel at v0.25.1 (commit of tag v0.25.1),
// restricted to the SD 1.x/2.x configuration space (see UNet2DConditionConfig.Validate for what is rejected).
// Module fields are checkpoint keys (conv_in.weight, time_embedding.linear_1.weight, down_blocks.0.attentions.0...):
// never rename them. Deviations: inference only; no class/added embeddings, ControlNet/T2I residuals, attention
// masks, cross_attention_kwargs or FreeU; attention runs through scaled_dot_product_attention.
using TorchSharp;
using TorchSharp.Modules;
using MultiModal.Models.Layers;
using MultiModal.Models.Weights;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Models.Unet;

/// <summary>
/// The conditional denoising UNet of Stable Diffusion: predicts the noise (or v) in a latent from the latent, the
/// timestep and the text encoder's hidden states. Built from <see cref="UNet2DConditionConfig"/>; the device the
/// modules are created on is a parameter (<c>META</c> builds names and shapes only).
/// </summary>
public sealed class UNet2DConditionModel : Module
{
    private readonly PortableConv2d conv_in;
    private readonly Timesteps time_proj;
    private readonly TimestepEmbedding time_embedding;
    private readonly ModuleList<UNetDownBlock> down_blocks = new();
    private readonly UNetMidBlock2DCrossAttn? mid_block;
    private readonly ModuleList<UNetUpBlock> up_blocks = new();
    private readonly GroupNorm conv_norm_out;
    private readonly PortableConv2d conv_out;

    public UNet2DConditionConfig Config { get; }

    public UNet2DConditionModel(UNet2DConditionConfig config, Device? device = null) : base(nameof(UNet2DConditionModel))
    {
        config.Validate();
        Config = config;
        var n = config.DownBlockTypes.Length;
        var channels = config.BlockOutChannels;
        var groups = config.NormNumGroups!.Value;
        var heads = config.NumHeadsPerBlock;
        var layers = config.LayersPerBlock.For(n, "layers_per_block");
        var crossDims = config.CrossAttentionDim.For(n, "cross_attention_dim");
        var transformerLayers = config.TransformerLayersPerBlock.For(n, "transformer_layers_per_block");
        var timeEmbedDim = config.TimeEmbedDim;

        UNetBlockSpec Spec(int i, long numLayers, double outputScale) => new(
            numLayers, transformerLayers[i], timeEmbedDim, groups, config.NormEps, config.ActFn, outputScale,
            crossDims[i], heads[i], config.UseLinearProjection, config.UpcastAttention);

        conv_in = new PortableConv2d(config.InChannels, channels[0], kernel_size: config.ConvInKernel, stride: 1,
            padding: (config.ConvInKernel - 1) / 2, device: device);

        // Time: sinusoidal projection of width block_out_channels[0], then the MLP to time_embed_dim.
        time_proj = new Timesteps(channels[0], config.FlipSinToCos, config.FreqShift);
        time_embedding = new TimestepEmbedding(channels[0], timeEmbedDim, config.ActFn, device: device);

        // Down: each block halves the resolution except the last.
        var outputChannel = channels[0];
        for (var i = 0; i < n; i++)
        {
            var inputChannel = outputChannel;
            outputChannel = channels[i];
            var addDownsample = i != n - 1;
            var spec = Spec(i, layers[i], config.ResnetOutScaleFactor);
            down_blocks.Add(config.DownBlockTypes[i] == "CrossAttnDownBlock2D"
                ? new CrossAttnDownBlock2D(inputChannel, outputChannel, addDownsample, config.DownsamplePadding, spec, device)
                : new DownBlock2D(inputChannel, outputChannel, addDownsample, config.DownsamplePadding, spec, device));
        }

        if (config.MidBlockType is not null)
            mid_block = new UNetMidBlock2DCrossAttn(channels[^1], Spec(n - 1, 1, config.MidBlockScaleFactor), device);

        // Up: the per-block lists reversed; each resnet also takes a skip connection from the down path.
        var reversedChannels = channels.Reverse().ToArray();
        outputChannel = reversedChannels[0];
        for (var i = 0; i < n; i++)
        {
            var r = n - 1 - i;   // index into the forward (down-block) lists
            var prevOutputChannel = outputChannel;
            outputChannel = reversedChannels[i];
            var inputChannel = reversedChannels[Math.Min(i + 1, n - 1)];
            var addUpsample = i != n - 1;
            var spec = Spec(r, layers[r] + 1, config.ResnetOutScaleFactor);
            up_blocks.Add(config.UpBlockTypes[i] == "CrossAttnUpBlock2D"
                ? new CrossAttnUpBlock2D(inputChannel, outputChannel, prevOutputChannel, addUpsample, spec, device)
                : new UpBlock2D(inputChannel, outputChannel, prevOutputChannel, addUpsample, spec, device));
        }

        conv_norm_out = GroupNorm(groups, channels[0], eps: config.NormEps, affine: true, device: device);
        conv_out = new PortableConv2d(channels[0], config.OutChannels, kernel_size: config.ConvOutKernel, stride: 1,
            padding: (config.ConvOutKernel - 1) / 2, device: device);
        RegisterComponents();
    }

    /// <summary>
    /// Loads a diffusers <c>unet/</c> folder (<c>config.json</c> + <c>diffusion_pytorch_model[.variant].safetensors</c>,
    /// single or sharded) strictly, on <paramref name="device"/> in <paramref name="dtype"/>, in eval mode.
    /// </summary>
    public static UNet2DConditionModel Load(string folder, Device device, ScalarType dtype, string? variant = null)
    {
        var config = UNet2DConditionConfig.Load(Path.Combine(folder, "config.json"));
        var checkpoint = SafeTensorsCheckpoint.Open(folder, "diffusion_pytorch_model", variant);
        var model = new UNet2DConditionModel(config, META);
        StateDictLoader.Materialize("UNet2DConditionModel", model, checkpoint, device, dtype);
        ChannelsLast.UseForConvolutions(model);
        model.eval();
        return model;
    }

    /// <summary>The model's dtype (that of its weights), which <c>sample</c> and text embeddings must match.</summary>
    public ScalarType DType => conv_in.DType;

    /// <summary>
    /// Noise prediction for <paramref name="sample"/> (B, in_channels, h, w) at <paramref name="timestep"/>: a 0-dim
    /// tensor or shape (1) (broadcast to the batch) or (B) (one per row), integer or fractional, conditioned on
    /// <paramref name="encoder_hidden_states"/> (B, S, cross_attention_dim). Returns (B, out_channels, h, w).
    /// </summary>
    public Tensor Forward(Tensor sample, Tensor timestep, Tensor encoder_hidden_states)
    {
        CheckInputs(sample, timestep, encoder_hidden_states);
        long b = sample.shape[0];

        // Sizes not divisible by 2^num_upsamplers: the up path must upsample to the skip connections' exact size.
        var factor = 1L << Config.NumUpsamplers;
        var forwardUpsampleSize = sample.shape[2] % factor != 0 || sample.shape[3] % factor != 0;

        // 0. Center the input if the model was trained that way.
        using var centered = Config.CenterInputSample ? sample.mul(2.0).sub_(1.0) : sample.alias();

        // 1. Time: broadcast to the batch, sinusoidal embedding (float32), cast to the model dtype, MLP.
        using var onDevice = timestep.to(sample.device);
        using var timesteps = onDevice.expand(b);                                                          // (B)
        using var t_proj = time_proj.call(timesteps);                                                      // (B, C0)
        using var t_emb = t_proj.to(sample.dtype);
        using var emb = time_embedding.call(t_emb);                                                        // (B, Ctime)

        // 2. Pre-process.
        var down_block_res_samples = new List<Tensor> { conv_in.call(centered) };                          // (B, C0, h, w)
        try
        {
            // 3. Down: every resnet/attention output and downsampled map becomes a skip connection.
            var h = down_block_res_samples[0];
            foreach (var block in down_blocks)
                h = block.Forward(h, emb, encoder_hidden_states, down_block_res_samples);

            // 4. Mid.
            h = mid_block is null ? h.alias() : mid_block.call(h, emb, encoder_hidden_states);

            // 5. Up: each block takes as many skips (from the end) as it has resnets.
            for (var i = 0; i < up_blocks.Count; i++)
            {
                var block = up_blocks[i];
                var skips = down_block_res_samples.GetRange(down_block_res_samples.Count - block.NumResnets, block.NumResnets);
                down_block_res_samples.RemoveRange(down_block_res_samples.Count - block.NumResnets, block.NumResnets);
                var isFinalBlock = i == up_blocks.Count - 1;
                long[]? upsampleSize = !isFinalBlock && forwardUpsampleSize
                    ? [down_block_res_samples[^1].shape[2], down_block_res_samples[^1].shape[3]]
                    : null;
                using var previous = h;
                h = block.Forward(previous, skips, emb, encoder_hidden_states, upsampleSize);
                foreach (var skip in skips)
                    skip.Dispose();
            }

            // 6. Post-process.
            using var output = h;
            using var normed = DiffusersActivation.ApplyInPlace(Config.ActFn, conv_norm_out.call(output));
            using var predicted = conv_out.call(normed);                                                    // (B, Cout, h, w)
            return predicted.contiguous();   // callers get (B, C, h, w) memory whatever layout the convolutions ran in
        }
        finally
        {
            foreach (var remaining in down_block_res_samples)
                remaining.Dispose();
        }
    }

    /// <summary>
    /// <see cref="Forward(Tensor, Tensor, Tensor)"/> with a Python-number timestep, as diffusers turns it into a
    /// one-element tensor (float64 for fractional values, int64 for whole ones; both end up as float32).
    /// </summary>
    public Tensor Forward(Tensor sample, double timestep, Tensor encoder_hidden_states)
    {
        using var t = timestep == Math.Floor(timestep)
            ? tensor(new[] { (long)timestep }, device: sample.device)
            : tensor(new[] { timestep }, device: sample.device);
        return Forward(sample, t, encoder_hidden_states);
    }

    private void CheckInputs(Tensor sample, Tensor timestep, Tensor encoder_hidden_states)
    {
        if (sample.dim() != 4 || sample.shape[1] != Config.InChannels)
            throw new ArgumentException($"UNet sample must be (B, {Config.InChannels}, h, w); got [{string.Join(", ", sample.shape)}].", nameof(sample));
        var b = sample.shape[0];
        if (sample.dtype != DType || encoder_hidden_states.dtype != DType)
            throw new ArgumentException(
                $"UNet inputs must have the model's dtype {DType}; got sample {sample.dtype}, encoder_hidden_states {encoder_hidden_states.dtype}.");
        if (timestep.dim() > 1 || (timestep.dim() == 1 && timestep.shape[0] != 1 && timestep.shape[0] != b))
            throw new ArgumentException($"UNet timestep must be 0-dim, (1) or (B = {b}); got [{string.Join(", ", timestep.shape)}].", nameof(timestep));
        var crossDim = Config.CrossAttentionDim.For(Config.DownBlockTypes.Length, "cross_attention_dim")[0];
        if (encoder_hidden_states.dim() != 3 || encoder_hidden_states.shape[0] != b || encoder_hidden_states.shape[2] != crossDim)
            throw new ArgumentException(
                $"UNet encoder_hidden_states must be (B = {b}, S, {crossDim}); got [{string.Join(", ", encoder_hidden_states.shape)}].",
                nameof(encoder_hidden_states));
    }
}
