// Port of transformers/models/clip/modeling_clip.py (CLIPTextEmbeddings, CLIPVisionEmbeddings, CLIPAttention, CLIPMLP,
// CLIPEncoderLayer, CLIPEncoder, CLIPTextTransformer, CLIPVisionTransformer, CLIPModel) at transformers v4.36
// (815ea8e8a23a). Module fields are checkpoint keys (text_model.encoder.layers.0.self_attn.q_proj.weight, ...):
// never rename them. Deviations: no dropout, no gradient checkpointing (training runs the same forward: services/Training); attention through
// scaled_dot_product_attention with a boolean mask instead of the additive float-min mask (same softmax result);
// position_ids are computed, not stored (they are a non-persistent buffer in 4.36, ignored when a checkpoint has them).
using TorchSharp;
using MultiModal.Models.Layers;
using MultiModal.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Models.Clip;

/// <summary>Outputs of one tower: the encoder's last hidden state, the pooled vector, and optionally every layer.</summary>
public sealed record ClipTowerOutput(Tensor LastHiddenState, Tensor PooledOutput, IReadOnlyList<Tensor>? HiddenStates);

internal static class ClipActivations
{
    public static Tensor Apply(string name, Tensor x) => name switch
    {
        "quick_gelu" => QuickGelu(x),
        "gelu" => functional.gelu(x),
        "gelu_new" or "gelu_pytorch_tanh" => functional.gelu(x, approximate: TorchSharp.Modules.GELU.Approximate.tanh),
        _ => throw new NotSupportedException($"hidden_act '{name}' is not supported."),
    };

    // x · sigmoid(1.702 x). Without a graph: one (B, T, 4C) buffer instead of three, updated in place.
    private static Tensor QuickGelu(Tensor x)
    {
        if (is_grad_enabled())
            return x * functional.sigmoid(1.702 * x);
        var y = x.mul(1.702);
        return y.sigmoid_().mul_(x);
    }
}

internal sealed class ClipAttention : Module<Tensor, Tensor?, Tensor>, IPacksForInference
{
    private readonly PackedLinear q_proj, k_proj, v_proj, out_proj;
    private readonly long _numHeads, _headDim;
    // With the panels: q, k and v of few rows as one product (not a module: no state-dict keys of its own).
    private PanelPackedProjections? _qkv;

    public ClipAttention(int hiddenSize, int numHeads, Device? device = null) : base(nameof(ClipAttention))
    {
        (_numHeads, _headDim) = (numHeads, hiddenSize / numHeads);
        q_proj = new PackedLinear(hiddenSize, hiddenSize, device: device);
        k_proj = new PackedLinear(hiddenSize, hiddenSize, device: device);
        v_proj = new PackedLinear(hiddenSize, hiddenSize, device: device);
        out_proj = new PackedLinear(hiddenSize, hiddenSize, device: device);
        RegisterComponents();
    }

    public bool IsPacked => (_qkv is not null || (q_proj.IsPacked && k_proj.IsPacked && v_proj.IsPacked)) && out_proj.IsPacked;

    // hidden_states: (B, T, C). attention_mask: bool, true = may attend, broadcastable to (B, nh, T, T), or null.
    public override Tensor forward(Tensor hidden_states, Tensor? attention_mask)
    {
        long b = hidden_states.shape[0], t = hidden_states.shape[1];
        var projections = _qkv?.TryMultiply(hidden_states)
            ?? [q_proj.call(hidden_states), k_proj.call(hidden_states), v_proj.call(hidden_states)];
        using var qp = projections[0];
        using var kp = projections[1];
        using var vp = projections[2];
        using var q = qp.view(b, t, _numHeads, _headDim).transpose(1, 2); // (B, nh, T, hd)
        using var k = kp.view(b, t, _numHeads, _headDim).transpose(1, 2); // (B, nh, T, hd)
        using var v = vp.view(b, t, _numHeads, _headDim).transpose(1, 2); // (B, nh, T, hd)
        // SDPA scales by 1/sqrt(hd), as CLIPAttention's self.scale does.
        using var y = functional.scaled_dot_product_attention(q, k, v, attention_mask);           // (B, nh, T, hd)
        return out_proj.call(y.transpose(1, 2).reshape(b, t, _numHeads * _headDim));             // (B, T, C)
    }

    /// <summary>
    /// Panels: q, k and v packed side by side as one product (they have one input), so a batch-1 forward runs one panel
    /// product where it ran three; oneMKL: each packed alone. out_proj packs as any <see cref="PackedLinear"/>.
    /// </summary>
    public void PackForInference(LinearPacking? packing = null)
    {
        if (IsPacked)
            return;
        if ((packing ?? LinearPackings.Default) == LinearPacking.Panels)
            _qkv = PanelPackedProjections.TryPack(q_proj, k_proj, v_proj);
        if (_qkv is null)
            foreach (var projection in new[] { q_proj, k_proj, v_proj })
                projection.PackForInference(packing);
        out_proj.PackForInference(packing);
    }

    public override void train(bool on = true)
    {
        if (on)
            DropFusedPack();
        base.train(on);
    }

    protected override void Dispose(bool disposing)
    {
        DropFusedPack();
        base.Dispose(disposing);
    }

    private void DropFusedPack()
    {
        _qkv?.Dispose();
        _qkv = null;
    }
}

internal sealed class ClipMlp : Module<Tensor, Tensor>
{
    private readonly PackedLinear fc1, fc2;
    private readonly string _act;

    public ClipMlp(int hiddenSize, int intermediateSize, string act, Device? device = null) : base(nameof(ClipMlp))
    {
        _act = act;
        fc1 = new PackedLinear(hiddenSize, intermediateSize, device: device);
        fc2 = new PackedLinear(intermediateSize, hiddenSize, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden_states)
    {
        using var h = fc1.call(hidden_states);
        using var a = ClipActivations.Apply(_act, h);
        return fc2.call(a);
    }
}

internal sealed class ClipEncoderLayer : Module<Tensor, Tensor?, Tensor>
{
    private readonly ClipAttention self_attn;
    private readonly LayerNorm layer_norm1;
    private readonly ClipMlp mlp;
    private readonly LayerNorm layer_norm2;

    public ClipEncoderLayer(int hidden, int intermediate, int heads, string act, double eps, Device? device = null) : base(nameof(ClipEncoderLayer))
    {
        self_attn = new ClipAttention(hidden, heads, device);
        layer_norm1 = LayerNorm(hidden, eps: eps, device: device);
        mlp = new ClipMlp(hidden, intermediate, act, device);
        layer_norm2 = LayerNorm(hidden, eps: eps, device: device);
        RegisterComponents();
    }

    // Pre-LN residual block, as CLIPEncoderLayer.forward.
    public override Tensor forward(Tensor hidden_states, Tensor? attention_mask)
    {
        using var attn = self_attn.call(layer_norm1.call(hidden_states), attention_mask);
        var residual = hidden_states + attn;
        using var mlpOut = mlp.call(layer_norm2.call(residual));
        // In place when no graph is recorded (inference). When training, layer_norm2 saved residual for its backward,
        // so an in-place add would invalidate it: a new tensor instead.
        if (!is_grad_enabled())
            return residual.add_(mlpOut);
        using (residual)
            return residual + mlpOut;
    }
}

internal sealed class ClipEncoder : Module<Tensor, Tensor?, Tensor>
{
    private readonly ModuleList<ClipEncoderLayer> layers = new();

    public ClipEncoder(int numLayers, int hidden, int intermediate, int heads, string act, double eps, Device? device = null) : base(nameof(ClipEncoder))
    {
        for (var i = 0; i < numLayers; i++)
            layers.Add(new ClipEncoderLayer(hidden, intermediate, heads, act, eps, device));
        RegisterComponents();
    }

    public int Count => layers.Count;

    public override Tensor forward(Tensor hidden_states, Tensor? attention_mask) =>
        Forward(hidden_states, attention_mask, collect: null);

    /// <summary>Layers <paramref name="from"/> .. <paramref name="from"/> + <paramref name="count"/> − 1 on <paramref name="hidden_states"/>.</summary>
    public Tensor ForwardLayers(Tensor hidden_states, int from, int count, Tensor? attention_mask = null)
    {
        if (from < 0 || count < 1 || from + count > layers.Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"layers {from}..{from + count - 1} of {layers.Count}");
        var h = layers[from].call(hidden_states, attention_mask);
        for (var i = from + 1; i < from + count; i++)
        {
            var next = layers[i].call(h, attention_mask);
            h.Dispose();
            h = next;
        }
        return h;
    }

    /// <summary>Runs every layer; when <paramref name="collect"/> is given it receives the input and each layer's output.</summary>
    public Tensor Forward(Tensor hidden_states, Tensor? attention_mask, List<Tensor>? collect)
    {
        collect?.Add(hidden_states);
        var h = hidden_states;
        foreach (var layer in layers)
        {
            h = layer.call(h, attention_mask);
            collect?.Add(h);
        }
        return h;
    }
}

internal sealed class ClipTextEmbeddings : Module<Tensor, Tensor>
{
    private readonly Embedding token_embedding, position_embedding;

    public ClipTextEmbeddings(ClipTextConfig c, Device? device = null) : base(nameof(ClipTextEmbeddings))
    {
        token_embedding = Embedding(c.VocabSize, c.HiddenSize, device: device);
        position_embedding = Embedding(c.MaxPositionEmbeddings, c.HiddenSize, device: device);
        RegisterComponents();
    }

    // input_ids: (B, T) int64 → (B, T, C)
    public override Tensor forward(Tensor input_ids)
    {
        using var position_ids = arange(input_ids.shape[1], dtype: ScalarType.Int64, device: input_ids.device).unsqueeze(0);
        using var tokens = token_embedding.call(input_ids);
        return tokens + position_embedding.call(position_ids);
    }
}

/// <summary>CLIPTextTransformer: embeddings, causal encoder, final LayerNorm, pooling at the end-of-text token.</summary>
public sealed class ClipTextTransformer : Module<Tensor, Tensor?, Tensor>
{
    private readonly ClipTextEmbeddings embeddings;
    private readonly ClipEncoder encoder;
    private readonly LayerNorm final_layer_norm;
    private readonly ClipTextConfig _config;

    public ClipTextTransformer(ClipTextConfig c, Device? device = null) : base(nameof(ClipTextTransformer))
    {
        _config = c;
        embeddings = new ClipTextEmbeddings(c, device);
        encoder = new ClipEncoder(c.NumHiddenLayers, c.HiddenSize, c.IntermediateSize, c.NumAttentionHeads, c.HiddenAct, c.LayerNormEps, device);
        final_layer_norm = LayerNorm(c.HiddenSize, eps: c.LayerNormEps, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input_ids, Tensor? attention_mask) => Forward(input_ids, attention_mask).PooledOutput;

    /// <summary>
    /// input_ids (B, T) int64; attention_mask (B, T) with 1 for real tokens, or null (causal mask only).
    /// HiddenStates (when asked) are the embeddings output and each layer's output, the last before final_layer_norm.
    /// </summary>
    public ClipTowerOutput Forward(Tensor input_ids, Tensor? attention_mask, bool outputHiddenStates = false)
    {
        long t = input_ids.shape[1];
        var hidden = embeddings.call(input_ids);                                                   // (B, T, C)
        // Causal mask (T, T) and, when given, padding mask over keys: true = may attend.
        using var causal = ones(t, t, dtype: ScalarType.Bool, device: input_ids.device).tril();
        using var mask = attention_mask is null
            ? causal.view(1, 1, t, t)
            : causal.view(1, 1, t, t).logical_and(attention_mask.to(ScalarType.Bool).view(-1, 1, 1, t)); // (B, 1, T, T)
        var collected = outputHiddenStates ? new List<Tensor>() : null;
        var last = encoder.Forward(hidden, mask, collected);
        if (collected is null) hidden.Dispose(); // else the caller owns it as HiddenStates[0]
        var lastHidden = final_layer_norm.call(last);                                               // (B, T, C)
        using var positions = PoolingPositions(input_ids);                                          // (B)
        using var batchIndex = arange(input_ids.shape[0], dtype: ScalarType.Int64, device: input_ids.device);
        var pooled = lastHidden.index(batchIndex, positions);                                       // (B, C)
        return new ClipTowerOutput(lastHidden, pooled, collected);
    }

    /// <summary>final_layer_norm alone, for embeddings taken from an earlier layer (diffusers' clip skip).</summary>
    public Tensor FinalLayerNorm(Tensor hidden_states) => final_layer_norm.call(hidden_states);

    // transformers 4.36: legacy eos_token_id == 2 pools at argmax(input_ids) (49407 is the largest id); otherwise at
    // the first position equal to eos_token_id.
    private Tensor PoolingPositions(Tensor input_ids) => _config.EosTokenId == 2
        ? input_ids.to(ScalarType.Int32).argmax(-1)
        : input_ids.eq(_config.EosTokenId).to(ScalarType.Int32).argmax(-1);
}

internal sealed class ClipVisionEmbeddings : Module<Tensor, Tensor>
{
    private readonly Parameter class_embedding;
    private readonly PortableConv2d patch_embedding;
    private readonly Embedding position_embedding;

    public ClipVisionEmbeddings(ClipVisionConfig c, Device? device = null) : base(nameof(ClipVisionEmbeddings))
    {
        class_embedding = Parameter(randn(c.HiddenSize, device: device));
        patch_embedding = new PortableConv2d(c.NumChannels, c.HiddenSize, kernel_size: c.PatchSize, stride: c.PatchSize, bias: false, device: device);
        position_embedding = Embedding(c.NumPositions, c.HiddenSize, device: device);
        RegisterComponents();
    }

    // pixel_values: (B, 3, H, W) → (B, 1 + H/p·W/p, C)
    public override Tensor forward(Tensor pixel_values)
    {
        long b = pixel_values.shape[0];
        using var patches = patch_embedding.call(pixel_values.to(patch_embedding.DType)); // (B, C, H/p, W/p)
        using var patch_embeds = patches.flatten(2).transpose(1, 2);                                // (B, N, C)
        using var class_embeds = class_embedding.expand(b, 1, -1);                                   // (B, 1, C)
        using var embeddings = cat([class_embeds, patch_embeds], dim: 1);                            // (B, 1+N, C)
        using var position_ids = arange(embeddings.shape[1], dtype: ScalarType.Int64, device: pixel_values.device).unsqueeze(0);
        return embeddings + position_embedding.call(position_ids);
    }
}

/// <summary>CLIPVisionTransformer: patch embeddings, pre-LayerNorm ("pre_layrnorm", sic), encoder, pooled CLS.</summary>
public sealed class ClipVisionTransformer : Module<Tensor, Tensor>
{
    private readonly ClipVisionEmbeddings embeddings;
    private readonly LayerNorm pre_layrnorm;
    private readonly ClipEncoder encoder;
    private readonly LayerNorm post_layernorm;

    public ClipVisionTransformer(ClipVisionConfig c, Device? device = null) : base(nameof(ClipVisionTransformer))
    {
        embeddings = new ClipVisionEmbeddings(c, device);
        pre_layrnorm = LayerNorm(c.HiddenSize, eps: c.LayerNormEps, device: device);
        encoder = new ClipEncoder(c.NumHiddenLayers, c.HiddenSize, c.IntermediateSize, c.NumAttentionHeads, c.HiddenAct, c.LayerNormEps, device);
        post_layernorm = LayerNorm(c.HiddenSize, eps: c.LayerNormEps, device: device);
        RegisterComponents();
    }

    public int NumLayers => encoder.Count;

    /// <summary>hidden_states[0]: embeddings then pre_layrnorm, (B, 3, H, W) → (B, 1+N, C).</summary>
    public Tensor EmbedForEncoder(Tensor pixel_values)
    {
        using var embedded = embeddings.call(pixel_values);
        return pre_layrnorm.call(embedded);
    }

    /// <summary>
    /// hidden_states[from + count] from hidden_states[from]: encoder layers <paramref name="from"/> onwards, so the
    /// tower can run a few layers at a time (or stop at the layer a caller needs).
    /// </summary>
    public Tensor ForwardEncoderLayers(Tensor hidden_states, int from, int count) => encoder.ForwardLayers(hidden_states, from, count);

    public override Tensor forward(Tensor pixel_values) => Forward(pixel_values).PooledOutput;

    /// <summary>
    /// pixel_values (B, 3, H, W). HiddenStates (when asked): the pre_layrnorm output, then each layer's output
    /// (LLaVA takes its features from one of these). LastHiddenState is the encoder output, before post_layernorm.
    /// </summary>
    public ClipTowerOutput Forward(Tensor pixel_values, bool outputHiddenStates = false)
    {
        using var embedded = embeddings.call(pixel_values);
        var hidden = pre_layrnorm.call(embedded);                                                   // (B, 1+N, C)
        var collected = outputHiddenStates ? new List<Tensor>() : null;
        var last = encoder.Forward(hidden, null, collected);
        using var cls = last.select(1, 0);                                                          // (B, C)
        var pooled = post_layernorm.call(cls);
        return new ClipTowerOutput(last, pooled, collected);
    }
}

/// <summary>
/// CLIPModel: both towers, their projections and the learned temperature <c>logit_scale</c>. Every module takes the
/// device to build on (null = CPU); <c>META</c> builds names and shapes without memory (manifest tests).
/// </summary>
public sealed class ClipModel : Module
{
    private readonly ClipTextTransformer text_model;
    private readonly ClipVisionTransformer vision_model;
    private readonly Linear visual_projection;
    private readonly Linear text_projection;
    private readonly Parameter logit_scale;

    public ClipConfig Config { get; }

    public ClipModel(ClipConfig config, Device? device = null) : base(nameof(ClipModel))
    {
        Config = config;
        text_model = new ClipTextTransformer(config.TextConfig, device);
        vision_model = new ClipVisionTransformer(config.VisionConfig, device);
        visual_projection = Linear(config.VisionConfig.HiddenSize, config.ProjectionDim, hasBias: false, device: device);
        text_projection = Linear(config.TextConfig.HiddenSize, config.ProjectionDim, hasBias: false, device: device);
        logit_scale = Parameter(tensor((float)config.LogitScaleInitValue, device: device));
        RegisterComponents();
    }

    public ClipTextTransformer TextModel => text_model;
    public ClipVisionTransformer VisionModel => vision_model;

    /// <summary><c>get_text_features</c>: text_projection(pooled), not normalised. (B, T) → (B, D).</summary>
    public Tensor GetTextFeatures(Tensor input_ids, Tensor? attention_mask)
    {
        var output = text_model.Forward(input_ids, attention_mask);
        using (output.LastHiddenState)
        using (output.PooledOutput)
            return text_projection.call(output.PooledOutput);
    }

    /// <summary><c>get_image_features</c>: visual_projection(pooled), not normalised. (B, 3, H, W) → (B, D).</summary>
    public Tensor GetImageFeatures(Tensor pixel_values)
    {
        var output = vision_model.Forward(pixel_values);
        using (output.LastHiddenState)
        using (output.PooledOutput)
            return visual_projection.call(output.PooledOutput);
    }

    /// <summary>
    /// CLIPModel.forward's logits (transformers v4.36 modeling_clip.py L1180-L1200), the training-mode forward:
    /// both towers' features normalised, logits_per_text = exp(logit_scale) · text · imageᵀ, (B_text, B_image), with the
    /// graph kept so the contrastive loss can back-propagate into every parameter, logit_scale included.
    /// </summary>
    public Tensor LogitsPerText(Tensor input_ids, Tensor? attention_mask, Tensor pixel_values)
    {
        using var scope = NewDisposeScope();
        var image_embeds = GetImageFeatures(pixel_values);                                          // (Bi, D)
        var text_embeds = GetTextFeatures(input_ids, attention_mask);                              // (Bt, D)
        image_embeds = image_embeds / image_embeds.norm(-1, keepdim: true, p: 2);
        text_embeds = text_embeds / text_embeds.norm(-1, keepdim: true, p: 2);
        var logits_per_text = matmul(text_embeds, image_embeds.t()) * logit_scale.exp();           // (Bt, Bi)
        return logits_per_text.MoveToOuterDisposeScope();
    }

    /// <summary>logit_scale itself (a trainer clamps it after each step, as OpenAI's training does).</summary>
    public Parameter LogitScaleParameter => logit_scale;

    /// <summary>
    /// Packs the encoder layers' float32 CPU weights (see <see cref="PackedLinear"/>; <see cref="LinearPackings.Default"/>
    /// when no <paramref name="packing"/> is named): faster batch-1 products for a second copy of those weights in
    /// memory. For models that only serve; switching the model to training drops the packs.
    /// </summary>
    public void PackForInference(LinearPacking? packing = null) => InferencePacking.PackAll(this, packing);

    /// <summary>Whether every encoder linear's products go through packed weights.</summary>
    public bool IsPackedForInference => InferencePacking.AllPacked(this);

    /// <summary>exp(logit_scale), the factor CLIPModel.forward applies to cosine similarities.</summary>
    public double LogitScaleExp()
    {
        if (_storedLogitScaleExp is { } stored)
            return stored;
        using var e = logit_scale.detach().exp();
        return e.to(ScalarType.Float64).item<double>();
    }

    // exp(logit_scale) from the checkpoint's own value, for a model loaded in a 16-bit dtype: bfloat16 keeps 8 bits of
    // mantissa, so the parameter would round the temperature (golden tiny-clip: 14.086 -> 14.0; OpenAI's 100 -> 98.9).
    // Such a model is never trained, so the parameter cannot move away from the stored value.
    private double? _storedLogitScaleExp;

    internal void KeepStoredLogitScale(Tensor stored)
    {
        using var e = stored.to(ScalarType.Float64).exp();
        _storedLogitScaleExp = e.item<double>();
    }
}
