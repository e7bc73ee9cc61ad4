// Port of diffusers/models/attention_processor.py Attention + AttnProcessor2_0 at v0.25.1, for the two uses SD makes
// of it: token attention in the UNet's transformer blocks (self and cross, no q/k/v bias) and the VAE mid-block's
// spatial self-attention (GroupNorm inside, q/k/v bias, residual). Fields are checkpoint keys (to_q, to_k, to_v,
// to_out.0, group_norm), the diffusers ≥ 0.21 names; legacy VAE names are mapped in Weights/KeyRemaps.cs.
// Deviations: inference only (no dropout), no attention mask, no added KV / spatial norm / cross-attention norm.
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Models.Layers;

/// <summary>Multi-head attention over tokens (B, T, C), or over the pixels of a feature map (B, C, H, W).</summary>
public sealed class Attention : Module<Tensor, Tensor?, Tensor>
{
    private readonly GroupNorm? group_norm;
    private readonly Linear to_q, to_k, to_v;
    private readonly ModuleList<Linear> to_out = new();   // diffusers: [Linear, Dropout]; the dropout holds no weights
    private readonly long _heads, _dimHead;
    private readonly bool _upcastAttention, _residualConnection;
    private readonly double _rescaleOutputFactor;

    /// <param name="queryDim">Channels of the input (and of the output).</param>
    /// <param name="crossAttentionDim">Channels of <c>encoder_hidden_states</c>; null for self-attention.</param>
    /// <param name="bias">Whether to_q/to_k/to_v have biases (the VAE's do, the UNet's do not).</param>
    /// <param name="upcastAttention">Compute q·k and softmax in float32 when running in half precision (SD 2.x).</param>
    /// <param name="normNumGroups">When set, a GroupNorm (named group_norm) normalises the input first (the VAE's).</param>
    /// <param name="residualConnection">Add the input to the output (the VAE's spatial attention).</param>
    public Attention(long queryDim, long heads, long dimHead, long? crossAttentionDim = null, bool bias = false,
        bool outBias = true, bool upcastAttention = false, long? normNumGroups = null, double eps = 1e-5,
        bool residualConnection = false, double rescaleOutputFactor = 1.0, Device? device = null) : base(nameof(Attention))
    {
        (_heads, _dimHead) = (heads, dimHead);
        (_upcastAttention, _residualConnection, _rescaleOutputFactor) = (upcastAttention, residualConnection, rescaleOutputFactor);
        var innerDim = heads * dimHead;
        var kvDim = crossAttentionDim ?? queryDim;
        if (normNumGroups is { } groups)
            group_norm = GroupNorm(groups, queryDim, eps: eps, affine: true, device: device);
        to_q = Linear(queryDim, innerDim, hasBias: bias, device: device);
        to_k = Linear(kvDim, innerDim, hasBias: bias, device: device);
        to_v = Linear(kvDim, innerDim, hasBias: bias, device: device);
        to_out.Add(Linear(innerDim, queryDim, hasBias: outBias, device: device));
        RegisterComponents();
    }

    // hidden_states: (B, T, C) or (B, C, H, W); encoder_hidden_states: (B, S, Ccross) or null (self-attention).
    public override Tensor forward(Tensor hidden_states, Tensor? encoder_hidden_states)
    {
        var spatial = hidden_states.dim() == 4;
        long b = hidden_states.shape[0], c = hidden_states.shape[1];
        long h = spatial ? hidden_states.shape[2] : 0, w = spatial ? hidden_states.shape[3] : 0;

        // GroupNorm over (B, C, H, W) equals diffusers' GroupNorm over the (B, C, H·W) view.
        using var normed = group_norm?.call(hidden_states);
        var source = normed ?? hidden_states;
        // Spatial input as tokens: a view when the memory is channels-last (ChannelsLast), one copy when it is NCHW.
        using var pixelsLast = spatial ? source.permute(0, 2, 3, 1) : source.alias();           // (B, H, W, C) or (B, T, C)
        using var tokens = spatial ? pixelsLast.reshape(b, h * w, c) : pixelsLast.alias();      // (B, T, C)
        var context = encoder_hidden_states ?? tokens;                                         // (B, S, Ckv)

        using var query = SplitHeads(to_q.call(tokens), b);                                     // (B, nh, T, hd)
        using var key = SplitHeads(to_k.call(context), b);                                      // (B, nh, S, hd)
        using var value = SplitHeads(to_v.call(context), b);                                    // (B, nh, S, hd)
        using var attended = Attend(query, key, value);                                         // (B, nh, T, hd)
        using var headsLast = attended.transpose(1, 2);                                         // (B, T, nh, hd)
        using var merged = headsLast.reshape(b, -1, _heads * _dimHead);                         // (B, T, nh·hd)
        var output = to_out[0].call(merged);                                                    // (B, T, C)

        if (spatial)
        {
            using var tokensOut = output;
            using var pixels = tokensOut.view(b, h, w, c);                                      // (B, H, W, C)
            output = pixels.permute(0, 3, 1, 2);                                                // (B, C, H, W), channels-last memory
        }
        if (_residualConnection)
            output.add_(hidden_states);
        return _rescaleOutputFactor == 1.0 ? output : output.div_(_rescaleOutputFactor);
    }

    private Tensor SplitHeads(Tensor projected, long b)
    {
        using (projected)
        using (var split = projected.view(b, -1, _heads, _dimHead))                           // (B, T, nh, hd)
            return split.transpose(1, 2);                                                       // (B, nh, T, hd)
    }

    // SDPA scales by 1/sqrt(hd), as Attention.scale (dim_head ** -0.5) does.
    private Tensor Attend(Tensor query, Tensor key, Tensor value)
    {
        if (!_upcastAttention || query.dtype == ScalarType.Float32 || query.dtype == ScalarType.Float64)
            return functional.scaled_dot_product_attention(query, key, value);
        // upcast_attention (SD 2.x): scores and softmax in float32, so half-precision q·k cannot overflow.
        using var q = query.to(ScalarType.Float32);
        using var k = key.to(ScalarType.Float32);
        using var v = value.to(ScalarType.Float32);
        using var attended = functional.scaled_dot_product_attention(q, k, v);
        return attended.to(query.dtype);
    }
}
