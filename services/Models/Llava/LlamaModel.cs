// Port of transformers v4.37.2 models/llama/modeling_llama.py (LlamaRMSNorm, LlamaRotaryEmbedding, rotate_half,
// apply_rotary_pos_emb, repeat_kv, LlamaMLP, LlamaAttention, LlamaDecoderLayer, LlamaModel, LlamaForCausalLM),
// commit 345b9b1a6a308a1fa6559251eb33ead2211240ac. Module fields are checkpoint keys (model.layers.0.self_attn.q_proj.weight):
// never rename them.
// Deviations: no dropout (trainable: the residual add is out of place when grad is on), no pretraining_tp slicing, which only reorders the same sums); attention via
// scaled_dot_product_attention with a boolean causal mask (4.37 on torch 1.13 ran the eager path: same softmax, other
// summation order); cos/sin are computed for the positions in use instead of the cached cos_cached/sin_cached tables
// (the same float32 products p·inv_freq, so the same values); batch without padding (no attention_mask input);
// repeat_kv is not materialized: the query heads sharing a KV head attend as extra query rows (the same dot products);
// the KV cache writes into preallocated buffers instead of torch.cat per step.
// Addition: a decode step over sequences that each own a cache of its own length (ForwardStep), for serving
// concurrent generations together: the projections and the MLP run batched, attention runs per row on that row's cache.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using MultiModal.Models.Layers;
using MultiModal.Models.Runtime;

namespace MultiModal.Models.Llava;

/// <summary>
/// Where the Llama modules hand their work to a one-pass CPU kernel (CpuRmsNorm, CpuRotary) instead of libtorch's
/// operators: a decode step's few rows, no graph. The kernels run on one thread; larger inputs (a prefill) keep
/// libtorch's threaded operators.
/// </summary>
internal static class DecodeShaped
{
    public const int MostRows = 16;

    /// <summary>Whether <paramref name="rows"/> rows, computed now, go to a one-pass CPU kernel (when it supports the tensors).</summary>
    public static bool Takes(long rows) => !is_grad_enabled() && rows <= MostRows;
}

/// <summary>LlamaRMSNorm: <c>weight * x * rsqrt(mean(x²) + eps)</c>, the statistics in float32 whatever the dtype.</summary>
internal sealed class LlamaRmsNorm : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double _eps;

    public LlamaRmsNorm(int hiddenSize, double eps, Device? device = null) : base(nameof(LlamaRmsNorm))
    {
        _eps = eps;
        weight = Parameter(ones(hiddenSize, device: device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden_states)
    {
        if (TakesCpuRmsNorm(hidden_states))
            return CpuForward(hidden_states);
        var input_dtype = hidden_states.dtype;
        using var h = hidden_states.to(ScalarType.Float32);
        using var squared = h.pow(2);
        using var variance = squared.mean([-1], keepdim: true);
        using var scale = (variance + _eps).rsqrt_();
        using var normed = h * scale;
        using var back = normed.to(input_dtype);
        return weight * back;
    }

    // Decode-shaped rows on the CPU without a graph: one pass (CpuRmsNorm) instead of eight operators.
    private bool TakesCpuRmsNorm(Tensor x) =>
        DecodeShaped.Takes(x.numel() / weight.shape[0]) && CpuRmsNorm.Supports(x, weight);

    private Tensor CpuForward(Tensor x) => CpuRmsNorm.Apply(x, weight, _eps);
}

/// <summary>
/// LlamaRotaryEmbedding (HF rotate_half layout): <c>inv_freq[i] = 1/θ^(2i/d)</c> and the angles <c>p·inv_freq</c> in
/// float32, <c>cos = cos(cat(ang, ang))</c>. Not a module: the tables are not part of any checkpoint.
/// </summary>
public sealed class LlamaRotaryEmbedding
{
    private readonly float[] _invFreq;

    public LlamaRotaryEmbedding(int headDim, double theta)
    {
        // 1.0 / (base ** (arange(0, dim, 2).float() / dim)), all in float32 as transformers does it.
        using var scope = NewDisposeScope();
        using var exponent = arange(0, headDim, 2, dtype: ScalarType.Int64).to(ScalarType.Float32) / headDim;
        using var powered = tensor((float)theta).pow(exponent);
        using var inv = powered.reciprocal();
        _invFreq = inv.data<float>().ToArray();
        HeadDim = headDim;
    }

    public int HeadDim { get; }

    /// <summary><c>inv_freq</c> (d/2) as float32 on <paramref name="device"/>.</summary>
    public Tensor InvFreq(Device? device = null) => tensor(_invFreq, device: device);

    /// <summary>cos and sin for <paramref name="position_ids"/> (B, T) → each (B, T, d) in <paramref name="dtype"/>.</summary>
    public (Tensor Cos, Tensor Sin) CosSin(Tensor position_ids, ScalarType dtype)
    {
        using var inv_freq = InvFreq(position_ids.device);
        using var positions = position_ids.to(ScalarType.Float32).unsqueeze(-1);               // (B, T, 1)
        using var freqs = positions * inv_freq;                                                 // (B, T, d/2)
        using var emb = cat([freqs, freqs], dim: -1);                                           // (B, T, d)
        using var cos = emb.cos();
        using var sin = emb.sin();
        return (cos.to(dtype), sin.to(dtype));
    }

    /// <summary>rotate_half: <c>cat(-x[..., d/2:], x[..., :d/2])</c>.</summary>
    public static Tensor RotateHalf(Tensor x)
    {
        var half = x.shape[^1] / 2;
        using var x1 = x.narrow(-1, 0, half);
        using var x2 = x.narrow(-1, half, half);
        using var neg = x2.neg();
        return cat([neg, x1], dim: -1);
    }

    /// <summary>apply_rotary_pos_emb: q, k (B, h, T, d); cos, sin (B, T, d) → rotated q and k.</summary>
    public static (Tensor Q, Tensor K) Apply(Tensor q, Tensor k, Tensor cos, Tensor sin)
    {
        using var c = cos.unsqueeze(1);                                                         // (B, 1, T, d)
        using var s = sin.unsqueeze(1);
        using var rq = RotateHalf(q);
        using var rk = RotateHalf(k);
        using var qc = q * c;
        using var kc = k * c;
        using var qs = rq * s;
        using var ks = rk * s;
        return (qc + qs, kc + ks);
    }
}

/// <summary>
/// Per-layer key/value cache (transformers' legacy tuple cache): keys stored after RoPE, before the GQA repeat, each
/// (B, kv_heads, S, d). Stored in buffers with room to spare that double when full (capped at the model's context), so
/// a decode step writes its one new position in place instead of copying the whole cache. The buffers are detached from
/// dispose scopes, so they survive per-step scopes; dispose the cache.
/// </summary>
public sealed class LlamaKvCache : IDisposable
{
    private const long MinCapacity = 64;
    private readonly Tensor?[] _keys, _values;                                    // (B, kv, capacity, d)
    private readonly long[] _lengths;
    private readonly long _maxLength;

    /// <param name="numLayers">Decoder layers.</param>
    /// <param name="maxLength">
    /// Most positions this cache will hold (at most max_position_embeddings; for a generation, prompt + max new tokens):
    /// buffers never grow past it, so a generation never holds room it cannot use.
    /// </param>
    public LlamaKvCache(int numLayers, long maxLength = long.MaxValue) =>
        (_keys, _values, _lengths, _maxLength) = (new Tensor?[numLayers], new Tensor?[numLayers], new long[numLayers], maxLength);

    /// <summary>Cached positions (S), i.e. where the next token's position starts.</summary>
    public long Length => _lengths[0];

    /// <summary>Positions the buffers of layer 0 hold room for (for tests and memory accounting).</summary>
    public long Capacity => _keys[0]?.shape[2] ?? 0;

    /// <summary>Cached keys of <paramref name="layer"/>: a (B, kv, S, d) view of the buffer.</summary>
    public Tensor Key(int layer) => (_keys[layer] ?? throw new InvalidOperationException($"Layer {layer} has no cached keys yet.")).narrow(2, 0, _lengths[layer]);

    /// <summary>Cached values of <paramref name="layer"/>: a (B, kv, S, d) view of the buffer.</summary>
    public Tensor Value(int layer) => (_values[layer] ?? throw new InvalidOperationException($"Layer {layer} has no cached values yet.")).narrow(2, 0, _lengths[layer]);

    /// <summary>Appends this step's (B, kv, T, d) key/value along the sequence and returns views of all cached positions.</summary>
    internal (Tensor Key, Tensor Value) Append(int layer, Tensor key, Tensor value)
    {
        long length = _lengths[layer], added = key.shape[2];
        if (_keys[layer] is null || length + added > _keys[layer]!.shape[2])
        {
            var needed = length + added;
            var capacity = Math.Max(needed, Math.Min(_maxLength, Math.Max(MinCapacity, 2 * needed)));
            _keys[layer] = Grow(_keys[layer], key, length, capacity);
            _values[layer] = Grow(_values[layer], value, length, capacity);
        }
        using (var k = _keys[layer]!.narrow(2, length, added)) k.copy_(key);
        using (var v = _values[layer]!.narrow(2, length, added)) v.copy_(value);
        _lengths[layer] = length + added;
        return (Key(layer), Value(layer));
    }

    /// <summary>
    /// Forgets every position from <paramref name="length"/> on, in every layer (the buffers stay): undoes a step that
    /// failed part-way, so the sequence can take it again.
    /// </summary>
    public void Truncate(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        for (var i = 0; i < _lengths.Length; i++)
            _lengths[i] = Math.Min(_lengths[i], length);
    }

    // A buffer of `capacity` positions shaped and typed like `like`, holding the first `length` positions of `old`.
    private static Tensor Grow(Tensor? old, Tensor like, long length, long capacity)
    {
        var buffer = empty([like.shape[0], like.shape[1], capacity, like.shape[3]], like.dtype, like.device).DetachFromDisposeScope();
        if (old is not null)
        {
            using (var kept = old.narrow(2, 0, length))
            using (var target = buffer.narrow(2, 0, length))
                target.copy_(kept);
            old.Dispose();
        }
        return buffer;
    }

    public void Dispose()
    {
        for (var i = 0; i < _keys.Length; i++)
        {
            _keys[i]?.Dispose();
            _values[i]?.Dispose();
            _keys[i] = _values[i] = null;
            _lengths[i] = 0;
        }
    }
}

internal sealed class LlamaMlp : Module<Tensor, Tensor>
{
    private readonly GemvLinear gate_proj, up_proj, down_proj;

    public LlamaMlp(LlamaConfig c, Device? device = null) : base(nameof(LlamaMlp))
    {
        gate_proj = new GemvLinear(c.HiddenSize, c.IntermediateSize, hasBias: false, device: device);
        up_proj = new GemvLinear(c.HiddenSize, c.IntermediateSize, hasBias: false, device: device);
        down_proj = new GemvLinear(c.IntermediateSize, c.HiddenSize, hasBias: false, device: device);
        RegisterComponents();
    }

    // down_proj(silu(gate_proj(x)) * up_proj(x))
    public override Tensor forward(Tensor x)
    {
        var projected = GemvLinear.Project(x, gate_proj, up_proj);
        using var gate = projected[0];
        using var act = functional.silu(gate);
        using var up = projected[1];
        using var product = act * up;
        return down_proj.call(product);
    }
}

internal sealed class LlamaAttention : nn.Module
{
    private readonly GemvLinear q_proj, k_proj, v_proj, o_proj;
    private readonly int _layerIdx;
    private readonly long _numHeads, _numKvHeads, _headDim;

    public LlamaAttention(LlamaConfig c, int layerIdx, Device? device = null) : base(nameof(LlamaAttention))
    {
        (_layerIdx, _numHeads, _numKvHeads, _headDim) = (layerIdx, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim);
        q_proj = new GemvLinear(c.HiddenSize, c.NumAttentionHeads * c.HeadDim, hasBias: c.AttentionBias, device: device);
        k_proj = new GemvLinear(c.HiddenSize, c.NumKeyValueHeads * c.HeadDim, hasBias: c.AttentionBias, device: device);
        v_proj = new GemvLinear(c.HiddenSize, c.NumKeyValueHeads * c.HeadDim, hasBias: c.AttentionBias, device: device);
        o_proj = new GemvLinear(c.NumAttentionHeads * c.HeadDim, c.HiddenSize, hasBias: c.AttentionBias, device: device);
        RegisterComponents();
    }

    // hidden_states (B, T, C); cos/sin (B, T, hd); mask: bool (1, 1, T, S), true = may attend, or null (attend to all).
    // caches: null (no cache), one cache holding all B rows (same length), or B caches, one per row (T = 1 only).
    public Tensor Forward(Tensor hidden_states, Tensor cos, Tensor sin, Tensor? mask, IReadOnlyList<LlamaKvCache>? caches)
    {
        long b = hidden_states.shape[0], t = hidden_states.shape[1];
        var projected = GemvLinear.Project(hidden_states, q_proj, k_proj, v_proj);
        using var qProjected = projected[0];
        using var kProjected = projected[1];
        using var vProjected = projected[2];
        using var v0 = vProjected.view(b, t, _numKvHeads, _headDim).transpose(1, 2);                // (B, nkv, T, hd)
        var (q, k1) = Rotate(qProjected, kProjected, cos, sin);                                      // (B, nh|nkv, T, hd)
        using var _q = q;
        using var _k1 = k1;

        using var y = caches is { Count: > 1 }
            ? AttendPerRow(q, k1, v0, caches)
            : Attend(q, k1, v0, mask, caches?[0]);                                                      // (B, nh, T, hd)
        using var merged = y.transpose(1, 2).reshape(b, t, _numHeads * _headDim);                      // (B, T, nh·hd)
        return o_proj.call(merged);
    }

    // RoPE of the projections (B, T, heads·hd) → q (B, nh, T, hd), k (B, nkv, T, hd): decode-shaped rows on the CPU
    // without a graph in one pass (CpuRotary, the operators' own numbers), otherwise apply_rotary_pos_emb's operators.
    private (Tensor Q, Tensor K) Rotate(Tensor qProjected, Tensor kProjected, Tensor cos, Tensor sin)
    {
        long b = qProjected.shape[0], t = qProjected.shape[1];
        if (DecodeShaped.Takes(b * t)
            && CpuRotary.Supports(qProjected, cos, sin, _numHeads) && CpuRotary.Supports(kProjected, cos, sin, _numKvHeads))
        {
            using var qRotated = CpuRotary.Apply(qProjected, cos, sin, (int)_numHeads);
            using var kRotated = CpuRotary.Apply(kProjected, cos, sin, (int)_numKvHeads);
            return (qRotated.view(b, t, _numHeads, _headDim).transpose(1, 2), kRotated.view(b, t, _numKvHeads, _headDim).transpose(1, 2));
        }
        using var q0 = qProjected.view(b, t, _numHeads, _headDim).transpose(1, 2);
        using var k0 = kProjected.view(b, t, _numKvHeads, _headDim).transpose(1, 2);
        return LlamaRotaryEmbedding.Apply(q0, k0, cos, sin);
    }

    // q (B, nh, T, hd); k1, v0 (B, nkv, T, hd) → (B, nh, T, hd), appending k1/v0 to the cache when there is one.
    private Tensor Attend(Tensor q, Tensor k1, Tensor v0, Tensor? mask, LlamaKvCache? cache)
    {
        // The cache keeps keys after RoPE and before the GQA repeat, as transformers' past_key_values do.
        var (k, v) = cache is null ? (k1.alias(), v0.alias()) : cache.Append(_layerIdx, k1, v0);       // (B, nkv, S, hd)
        using var keys = k;
        using var values = v;
        var nRep = _numHeads / _numKvHeads;
        // SDPA scales by 1/sqrt(hd) like the eager path's division. Pass the mask positionally.
        if (nRep == 1)
            return functional.scaled_dot_product_attention(q, keys, values, mask);

        // repeat_kv without the copy: query head h uses KV head h / n_rep, so the n_rep query heads of one KV head are
        // stacked as extra query rows against that head's keys (row r·T + t is query head kv·n_rep + r at position t).
        long b = q.shape[0], t = q.shape[2];
        using var grouped = q.reshape(b, _numKvHeads, nRep * t, _headDim);                             // (B, nkv, n_rep·T, hd)
        using var groupedMask = mask?.repeat(1, 1, nRep, 1);                                            // (1, 1, n_rep·T, S)
        using var y = functional.scaled_dot_product_attention(grouped, keys, values, groupedMask);     // (B, nkv, n_rep·T, hd)
        return y.reshape(b, _numHeads, t, _headDim);                                                    // (B, nh, T, hd)
    }

    // Sequences of different lengths: row r's one new query attends to row r's own cache, so no padding and no mask.
    private Tensor AttendPerRow(Tensor q, Tensor k1, Tensor v0, IReadOnlyList<LlamaKvCache> caches)
    {
        if (caches.Count != q.shape[0] || q.shape[2] != 1)
            throw new ArgumentException($"One cache per row needs one new token per row; got {caches.Count} caches for a ({string.Join(", ", q.shape)}) query.");
        var rows = new Tensor[caches.Count];
        try
        {
            for (var r = 0; r < rows.Length; r++)
            {
                using var qr = q.narrow(0, r, 1);                                                       // (1, nh, 1, hd)
                using var kr = k1.narrow(0, r, 1);                                                      // (1, nkv, 1, hd)
                using var vr = v0.narrow(0, r, 1);
                rows[r] = Attend(qr, kr, vr, null, caches[r]);
            }
            return cat(rows, dim: 0);                                                                   // (B, nh, 1, hd)
        }
        finally
        {
            foreach (var row in rows) row?.Dispose();
        }
    }
}

internal sealed class LlamaDecoderLayer : nn.Module
{
    private readonly LlamaAttention self_attn;
    private readonly LlamaMlp mlp;
    private readonly LlamaRmsNorm input_layernorm, post_attention_layernorm;

    public LlamaDecoderLayer(LlamaConfig c, int layerIdx, Device? device = null) : base(nameof(LlamaDecoderLayer))
    {
        self_attn = new LlamaAttention(c, layerIdx, device);
        mlp = new LlamaMlp(c, device);
        input_layernorm = new LlamaRmsNorm(c.HiddenSize, c.RmsNormEps, device);
        post_attention_layernorm = new LlamaRmsNorm(c.HiddenSize, c.RmsNormEps, device);
        RegisterComponents();
    }

    // Pre-norm residual block, as LlamaDecoderLayer.forward.
    public Tensor Forward(Tensor hidden_states, Tensor cos, Tensor sin, Tensor? mask, IReadOnlyList<LlamaKvCache>? caches)
    {
        using var normed = input_layernorm.call(hidden_states);
        using var attn = self_attn.Forward(normed, cos, sin, mask, caches);
        var residual = hidden_states + attn;
        using var normed2 = post_attention_layernorm.call(residual);
        using var mlpOut = mlp.call(normed2);
        // In place when no graph is recorded (serving). When training, post_attention_layernorm saved residual for its
        // backward, so an in-place add would invalidate it: a new tensor instead.
        if (!is_grad_enabled())
            return residual.add_(mlpOut);
        using (residual)
            return residual + mlpOut;
    }
}

/// <summary>Output of the decoder stack: the final-normed hidden state and, when asked, transformers' hidden_states.</summary>
public sealed record LlamaModelOutput(Tensor LastHiddenState, IReadOnlyList<Tensor>? HiddenStates);

/// <summary>LlamaModel: token embeddings, decoder layers, final RMSNorm. Keys <c>embed_tokens.*</c>, <c>layers.N.*</c>, <c>norm.*</c>.</summary>
public sealed class LlamaModel : nn.Module
{
    private readonly Embedding embed_tokens;
    private readonly ModuleList<LlamaDecoderLayer> layers = new();
    private readonly LlamaRmsNorm norm;

    public LlamaConfig Config { get; }
    public LlamaRotaryEmbedding RotaryEmbedding { get; }

    public LlamaModel(LlamaConfig config, Device? device = null) : base(nameof(LlamaModel))
    {
        Config = config;
        RotaryEmbedding = new LlamaRotaryEmbedding(config.HeadDim, config.RopeTheta);
        embed_tokens = Embedding(config.VocabSize, config.HiddenSize, device: device);
        for (var i = 0; i < config.NumHiddenLayers; i++)
            layers.Add(new LlamaDecoderLayer(config, i, device));
        norm = new LlamaRmsNorm(config.HiddenSize, config.RmsNormEps, device);
        RegisterComponents();
    }

    /// <summary>The token embedding matrix (V, C); also the LM head when embeddings are tied.</summary>
    public Parameter EmbedWeight => embed_tokens.weight!;

    /// <summary>embed_tokens(input_ids): (B, T) int64 → (B, T, C).</summary>
    public Tensor EmbedTokens(Tensor input_ids) => embed_tokens.call(input_ids);

    /// <summary>
    /// Runs the decoder on <paramref name="inputs_embeds"/> (B, T, C). Positions continue after the cache
    /// (<c>cache.Length + 0..T-1</c>) unless <paramref name="position_ids"/> (B, T) is given. With
    /// <paramref name="outputHiddenStates"/>: the input embeddings, each layer's output but the last, and the final
    /// normed state (transformers' hidden_states tuple).
    /// </summary>
    public LlamaModelOutput Forward(Tensor inputs_embeds, LlamaKvCache? cache = null, Tensor? position_ids = null,
        bool outputHiddenStates = false)
    {
        long b = inputs_embeds.shape[0], t = inputs_embeds.shape[1];
        var past = cache?.Length ?? 0;
        using var positions = position_ids?.alias()
            ?? arange(past, past + t, dtype: ScalarType.Int64, device: inputs_embeds.device).unsqueeze(0).expand(b, t);
        using var mask = CausalMask(t, past, inputs_embeds.device);                                   // (1, 1, T, S) or null
        return Run(inputs_embeds, positions, mask, cache is null ? null : [cache], outputHiddenStates);
    }

    /// <summary>
    /// One decode step for sequences that each own a cache, of any lengths: <paramref name="inputs_embeds"/> (N, 1, C),
    /// row r at position <c>caches[r].Length</c> and appended to <c>caches[r]</c>. A single sequence gives exactly
    /// <see cref="Forward"/>'s numbers.
    /// </summary>
    public LlamaModelOutput ForwardStep(Tensor inputs_embeds, IReadOnlyList<LlamaKvCache> caches)
    {
        if (inputs_embeds.shape[0] != caches.Count || inputs_embeds.shape[1] != 1)
            throw new ArgumentException($"A step takes one token per cache; got ({string.Join(", ", inputs_embeds.shape)}) for {caches.Count} caches.");
        using var positions = tensor(caches.Select(c => c.Length).ToArray(), device: inputs_embeds.device).unsqueeze(1);   // (N, 1)
        return Run(inputs_embeds, positions, mask: null, caches, outputHiddenStates: false);
    }

    private LlamaModelOutput Run(Tensor inputs_embeds, Tensor positions, Tensor? mask, IReadOnlyList<LlamaKvCache>? caches,
        bool outputHiddenStates)
    {
        var (cos, sin) = RotaryEmbedding.CosSin(positions, inputs_embeds.dtype);
        using var _cos = cos;
        using var _sin = sin;

        var collected = outputHiddenStates ? new List<Tensor> { inputs_embeds.alias() } : null;
        var hidden = inputs_embeds.alias();
        for (var i = 0; i < layers.Count; i++)
        {
            var next = layers[i].Forward(hidden, cos, sin, mask, caches);
            if (collected is not null && i < layers.Count - 1) collected.Add(next.alias());
            hidden.Dispose();
            hidden = next;
        }
        var last = norm.call(hidden);
        hidden.Dispose();
        collected?.Add(last.alias());
        return new LlamaModelOutput(last, collected);
    }

    // Query i (absolute position past + i) may attend to keys 0..past + i. A single new token sees everything: no mask.
    private static Tensor? CausalMask(long t, long past, Device device)
    {
        if (t == 1) return null;
        using var keys = arange(past + t, dtype: ScalarType.Int64, device: device).unsqueeze(0);       // (1, S)
        using var queries = arange(past, past + t, dtype: ScalarType.Int64, device: device).unsqueeze(1); // (T, 1)
        using var allowed = keys.le(queries);                                                           // (T, S)
        return allowed.view(1, 1, t, past + t);
    }
}

/// <summary>LlamaForCausalLM: <c>model.*</c> plus <c>lm_head</c> (absent when <c>tie_word_embeddings</c>: the embedding matrix is reused).</summary>
public sealed class LlamaForCausalLM : nn.Module
{
    private readonly LlamaModel model;
    private readonly GemvLinear? lm_head;

    public LlamaForCausalLM(LlamaConfig config, Device? device = null) : base(nameof(LlamaForCausalLM))
    {
        model = new LlamaModel(config, device);
        if (!config.TieWordEmbeddings)
            lm_head = new GemvLinear(config.HiddenSize, config.VocabSize, hasBias: false, device: device);
        RegisterComponents();
    }

    public LlamaModel Model => model;
    public LlamaConfig Config => model.Config;

    /// <summary>lm_head(hidden) as float32, like transformers' <c>logits.float()</c>. (B, T, C) → (B, T, V)</summary>
    public Tensor Logits(Tensor hidden_states)
    {
        using var logits = lm_head is not null ? lm_head.call(hidden_states) : GemvLinear.Linear(hidden_states, model.EmbedWeight, null);
        return logits.to(ScalarType.Float32);
    }

    /// <summary>Text-only forward: input_ids (B, T) → logits (B, T, V), appending to <paramref name="cache"/> when given.</summary>
    public Tensor Forward(Tensor input_ids, LlamaKvCache? cache = null)
    {
        using var embeds = model.EmbedTokens(input_ids);
        var output = model.Forward(embeds, cache);
        using var last = output.LastHiddenState;
        return Logits(last);
    }

    /// <summary>A cache for this decoder, for at most <paramref name="maxLength"/> positions (default: the model's context).</summary>
    public LlamaKvCache NewCache(long? maxLength = null) =>
        new(model.Config.NumHiddenLayers, Math.Min(maxLength ?? long.MaxValue, model.Config.MaxPositionEmbeddings));
}
