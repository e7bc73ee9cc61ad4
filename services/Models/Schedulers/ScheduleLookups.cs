using static TorchSharp.torch;

namespace MultiModal.Models.Schedulers;

/// <summary>Timestep → index lookups and ᾱ-based forward noising shared by several schedulers (diffusers 0.25.1).</summary>
internal static class ScheduleLookups
{
    /// <summary>A timestep of an integer schedule as an index into ᾱ, refusing fractional or out-of-range values.</summary>
    public static int TrainIndex(double timestep, int numTrainTimesteps)
    {
        if (timestep != Math.Floor(timestep) || timestep < 0 || timestep >= numTrainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(timestep), timestep,
                $"Expected an integer timestep in [0, {numTrainTimesteps}).");
        return (int)timestep;
    }

    /// <summary>
    /// <c>_init_step_index</c>: where the first step of a run sits in <paramref name="timesteps"/>. With duplicates the
    /// SECOND match is taken, so a run that starts mid-schedule (img2img) does not skip a σ. DPM-Solver falls back to
    /// the last index when the timestep is absent; the other classes fail.
    /// </summary>
    public static int InitialStepIndex(IReadOnlyList<double> timesteps, double timestep, bool lastIfMissing = false)
    {
        var matches = Enumerable.Range(0, timesteps.Count).Where(i => timesteps[i] == timestep).Take(2).ToArray();
        return matches.Length switch
        {
            > 1 => matches[1],
            1 => matches[0],
            _ when lastIfMissing => timesteps.Count - 1,
            _ => throw new ArgumentException($"Timestep {timestep} is not one of the scheduler's timesteps.", nameof(timestep)),
        };
    }

    /// <summary>
    /// Euler / LMS <c>add_noise</c>: <c>(schedule_timesteps == t).nonzero().item()</c>, which needs exactly one match.
    /// </summary>
    public static int UniqueStepIndex(IReadOnlyList<double> timesteps, double timestep)
    {
        var matches = Enumerable.Range(0, timesteps.Count).Where(i => timesteps[i] == timestep).Take(2).ToArray();
        return matches.Length == 1
            ? matches[0]
            : throw new ArgumentException($"Timestep {timestep} must occur exactly once in the scheduler's timesteps.", nameof(timestep));
    }

    /// <summary>q(x_t | x₀) = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε, with ᾱ_t and both roots in float32 like diffusers.</summary>
    public static Tensor AddNoiseAlpha(IReadOnlyList<double> alphasCumprod, Tensor original, Tensor noise, double timestep)
    {
        var a = (float)alphasCumprod[TrainIndex(timestep, alphasCumprod.Count)];
        var sqrt_alpha_prod = MathF.Sqrt(a);
        var sqrt_one_minus_alpha_prod = MathF.Sqrt(1f - a);
        return sqrt_alpha_prod * original + sqrt_one_minus_alpha_prod * noise;
    }
}
