// Port of diffusers/models/embeddings.py get_timestep_embedding, Timesteps and TimestepEmbedding at v0.25.1.
// Fields are checkpoint keys (time_embedding.linear_1.weight, ...). Deviations: no cond_proj / post_act (SD has neither).
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Models.Layers;

/// <summary>
/// Sinusoidal timestep embedding (DDPM/"Attention is all you need" style): no weights. Computed in float32 as diffusers
/// does, whatever the timesteps' dtype (integer or fractional timesteps both work).
/// </summary>
public sealed class Timesteps : Module<Tensor, Tensor>
{
    private const double MaxPeriod = 10000;
    private readonly long _numChannels;
    private readonly bool _flipSinToCos;
    private readonly double _downscaleFreqShift;

    public Timesteps(long numChannels, bool flipSinToCos, double downscaleFreqShift) : base(nameof(Timesteps))
    {
        (_numChannels, _flipSinToCos, _downscaleFreqShift) = (numChannels, flipSinToCos, downscaleFreqShift);
        RegisterComponents();
    }

    // timesteps: (N) any numeric dtype → (N, numChannels) float32
    public override Tensor forward(Tensor timesteps)
    {
        var half = _numChannels / 2;
        // exponent = -ln(max_period) · arange(half) / (half − shift), in float32, then exp: the frequencies.
        using var range = arange(0, half, dtype: ScalarType.Float32, device: timesteps.device);
        using var exponent = range.mul(-Math.Log(MaxPeriod)).div_(half - _downscaleFreqShift);
        using var freqs = exponent.exp();                                                      // (half)
        using var t = timesteps.to(ScalarType.Float32);
        using var column = t.view(-1, 1);                                                      // (N, 1)
        using var args = column.mul(freqs);                                                    // (N, half)
        using var sin = args.sin();
        using var cos = args.cos();
        var emb = _flipSinToCos ? cat([cos, sin], dim: -1) : cat([sin, cos], dim: -1);         // (N, 2·half)
        if (_numChannels % 2 == 0)
            return emb;
        using (emb)
            return functional.pad(emb, (0L, 1L), PaddingModes.Constant, 0.0);                 // (N, numChannels)
    }
}

/// <summary>linear_1 → act → linear_2: the MLP that lifts the sinusoidal embedding to the blocks' time width.</summary>
public sealed class TimestepEmbedding : Module<Tensor, Tensor>
{
    private readonly Linear linear_1, linear_2;
    private readonly string _act;

    public TimestepEmbedding(long inChannels, long timeEmbedDim, string act, long? outDim = null, Device? device = null)
        : base(nameof(TimestepEmbedding))
    {
        _act = act;
        linear_1 = Linear(inChannels, timeEmbedDim, device: device);
        linear_2 = Linear(timeEmbedDim, outDim ?? timeEmbedDim, device: device);
        RegisterComponents();
    }

    // sample: (N, inChannels) → (N, timeEmbedDim)
    public override Tensor forward(Tensor sample)
    {
        using var hidden = DiffusersActivation.ApplyInPlace(_act, linear_1.call(sample));
        return linear_2.call(hidden);
    }
}
