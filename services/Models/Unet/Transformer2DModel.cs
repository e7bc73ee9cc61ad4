// Port of diffusers/models/attention.py (GEGLU from activations.py, FeedForward, BasicTransformerBlock) and
// diffusers/models/transformer_2d.py Transformer2DModel (continuous input) at v0.25.1.
// Fields are checkpoint keys (attentions.0.transformer_blocks.0.attn2.to_k.weight, ff.net.0.proj.weight, ...).
// Deviations: inference only; norm_type "layer_norm" and activation "geglu" only (what SD 1.x/2.x use); no
// only_cross_attention / double_self_attention / gated attention / positional embeddings / ada-norm.
using TorchSharp.Modules;
using MultiModal.Models.Layers;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Models.Unet;

/// <summary>GEGLU: one projection to twice the width, halves multiplied as value · gelu(gate) (Shazeer 2020).</summary>
internal sealed class GEGLU : Module<Tensor, Tensor>
{
    private readonly Linear proj;

    public GEGLU(long dimIn, long dimOut, Device? device = null) : base(nameof(GEGLU))
    {
        proj = Linear(dimIn, dimOut * 2, device: device);
        RegisterComponents();
    }

    // (B, T, dimIn) → (B, T, dimOut)
    public override Tensor forward(Tensor hidden_states)
    {
        using var projected = proj.call(hidden_states);                                 // (B, T, 2·dimOut)
        var halves = projected.chunk(2, dim: -1);
        using var value = halves[0];
        using var gate = halves[1];
        using var activated = functional.gelu(gate);                                   // exact (erf) GELU
        return value.mul(activated);
    }
}

/// <summary>FeedForward with GEGLU: net.0 (GEGLU), net.1 (dropout, no weights), net.2 (Linear back to dim).</summary>
internal sealed class FeedForward : Module<Tensor, Tensor>
{
    private readonly ModuleList<Module<Tensor, Tensor>> net = new();

    public FeedForward(long dim, long? innerDim = null, Device? device = null) : base(nameof(FeedForward))
    {
        var inner = innerDim ?? dim * 4;
        net.Add(new GEGLU(dim, inner, device));
        net.Add(Dropout(0.0));
        net.Add(Linear(inner, dim, device: device));
        RegisterComponents();
    }

    // (B, T, dim) → (B, T, dim); net.1 is dropout, the identity at inference, so it is skipped.
    public override Tensor forward(Tensor hidden_states)
    {
        using var inner = net[0].call(hidden_states);
        return net[2].call(inner);
    }
}

/// <summary>Pre-LN block: self-attention, cross-attention on the text embeddings, GEGLU feed-forward; each residual.</summary>
internal sealed class BasicTransformerBlock : Module<Tensor, Tensor?, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly Attention attn1;
    private readonly LayerNorm norm2;
    private readonly Attention attn2;
    private readonly LayerNorm norm3;
    private readonly FeedForward ff;

    public BasicTransformerBlock(long dim, long heads, long dimHead, long crossAttentionDim, bool upcastAttention,
        Device? device = null) : base(nameof(BasicTransformerBlock))
    {
        norm1 = LayerNorm(dim, eps: 1e-5, elementwise_affine: true, device: device);
        attn1 = new Attention(dim, heads, dimHead, crossAttentionDim: null, bias: false, upcastAttention: upcastAttention, device: device);
        norm2 = LayerNorm(dim, eps: 1e-5, elementwise_affine: true, device: device);
        attn2 = new Attention(dim, heads, dimHead, crossAttentionDim: crossAttentionDim, bias: false, upcastAttention: upcastAttention, device: device);
        norm3 = LayerNorm(dim, eps: 1e-5, elementwise_affine: true, device: device);
        ff = new FeedForward(dim, device: device);
        RegisterComponents();
    }

    // hidden_states: (B, T, dim); encoder_hidden_states: (B, S, Ccross) → (B, T, dim)
    public override Tensor forward(Tensor hidden_states, Tensor? encoder_hidden_states)
    {
        Tensor result;
        using (var normed = norm1.call(hidden_states))
        using (var attn_output = attn1.call(normed, null))
            result = attn_output.add(hidden_states);                                    // 1. self-attention

        using (var normed = norm2.call(result))
        using (var attn_output = attn2.call(normed, encoder_hidden_states))
            result = AddResidual(result, attn_output);                                  // 2. cross-attention

        using (var normed = norm3.call(result))
        using (var ff_output = ff.call(normed))
            result = AddResidual(result, ff_output);                                    // 3. feed-forward
        return result;
    }

    // In place when no graph is recorded (inference). When training, norm2/norm3 saved the running sum for their
    // backward, so an in-place add would invalidate it: a new tensor instead.
    private static Tensor AddResidual(Tensor sum, Tensor branch)
    {
        if (!is_grad_enabled())
            return sum.add_(branch);
        using (sum)
            return sum + branch;
    }
}

/// <summary>
/// Transformer2DModel on a feature map: GroupNorm (eps 1e-6), proj_in (1×1 conv, or Linear after flattening when
/// use_linear_projection), the transformer blocks over the H·W tokens, proj_out, plus the input as residual.
/// </summary>
internal sealed class Transformer2DModel : Module<Tensor, Tensor?, Tensor>
{
    private readonly GroupNorm norm;
    private readonly Module<Tensor, Tensor> proj_in;
    private readonly ModuleList<BasicTransformerBlock> transformer_blocks = new();
    private readonly Module<Tensor, Tensor> proj_out;
    private readonly bool _useLinearProjection;
    private readonly long _innerDim;

    public Transformer2DModel(long numAttentionHeads, long attentionHeadDim, long inChannels, long numLayers,
        long crossAttentionDim, long normNumGroups, bool useLinearProjection, bool upcastAttention, Device? device = null)
        : base(nameof(Transformer2DModel))
    {
        _useLinearProjection = useLinearProjection;
        _innerDim = numAttentionHeads * attentionHeadDim;
        norm = GroupNorm(normNumGroups, inChannels, eps: 1e-6, affine: true, device: device);
        proj_in = useLinearProjection
            ? Linear(inChannels, _innerDim, device: device)
            : new PortableConv2d(inChannels, _innerDim, kernel_size: 1, stride: 1, padding: 0L, device: device);
        for (var i = 0; i < numLayers; i++)
            transformer_blocks.Add(new BasicTransformerBlock(_innerDim, numAttentionHeads, attentionHeadDim, crossAttentionDim, upcastAttention, device));
        proj_out = useLinearProjection
            ? Linear(_innerDim, inChannels, device: device)
            : new PortableConv2d(_innerDim, inChannels, kernel_size: 1, stride: 1, padding: 0L, device: device);
        RegisterComponents();
    }

    // hidden_states: (B, C, H, W); encoder_hidden_states: (B, S, Ccross) → (B, C, H, W)
    public override Tensor forward(Tensor hidden_states, Tensor? encoder_hidden_states)
    {
        long b = hidden_states.shape[0], c = hidden_states.shape[1], h = hidden_states.shape[2], w = hidden_states.shape[3];

        // 1. Input: norm, project, flatten to tokens (the order of projection and flattening depends on the layer type).
        Tensor tokens;
        using (var normed = norm.call(hidden_states))
        {
            if (!_useLinearProjection)
            {
                using var projected = proj_in.call(normed);                                        // (B, inner, H, W)
                using var channelsLast = projected.permute(0, 2, 3, 1);                             // (B, H, W, inner)
                tokens = channelsLast.reshape(b, h * w, _innerDim);                                 // (B, HW, inner)
            }
            else
            {
                using var channelsLast = normed.permute(0, 2, 3, 1);                                // (B, H, W, C)
                using var flat = channelsLast.reshape(b, h * w, c);                                 // (B, HW, C)
                tokens = proj_in.call(flat);                                                        // (B, HW, inner)
            }
        }

        // 2. Blocks.
        foreach (var block in transformer_blocks)
        {
            using var previous = tokens;
            tokens = block.call(previous, encoder_hidden_states);
        }

        // 3. Output: project and unflatten back to (B, C, H, W), then the residual.
        Tensor output;
        using (tokens)
        {
            if (!_useLinearProjection)
            {
                using var channelsLast = tokens.view(b, h, w, _innerDim);                           // (B, H, W, inner)
                using var channelsFirst = channelsLast.permute(0, 3, 1, 2);                         // (B, inner, H, W) view
                using var map = channelsFirst.contiguous();
                output = proj_out.call(map);                                                        // (B, C, H, W)
            }
            else
            {
                using var projected = proj_out.call(tokens);                                        // (B, HW, C)
                using var channelsLast = projected.view(b, h, w, c);                                // (B, H, W, C)
                using var channelsFirst = channelsLast.permute(0, 3, 1, 2);                         // (B, C, H, W) view
                output = channelsFirst.contiguous();
            }
        }
        return output.add_(hidden_states);
    }
}
