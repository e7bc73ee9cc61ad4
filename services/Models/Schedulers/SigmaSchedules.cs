namespace MultiModal.Models.Schedulers;

/// <summary>
/// σ-space helpers shared by the Karras-style schedulers (Euler, LMS, DPM-Solver), ported from diffusers 0.25.1
/// <c>_convert_to_karras</c> and <c>_sigma_to_t</c>, in numpy's float64 like the Python.
/// </summary>
public static class SigmaSchedules
{
    /// <summary>
    /// Karras et al. (2022) eq. (5), ρ = 7: σ_i = (σ_max^{1/ρ} + i/(N−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ.
    /// </summary>
    public static double[] Karras(double sigmaMin, double sigmaMax, int numInferenceSteps)
    {
        const double rho = 7.0;
        var ramp = NumpyMath.Linspace(0, 1, numInferenceSteps);
        var minInvRho = Math.Pow(sigmaMin, 1 / rho);
        var maxInvRho = Math.Pow(sigmaMax, 1 / rho);
        return ramp.Select(r => Math.Pow(maxInvRho + r * (minInvRho - maxInvRho), rho)).ToArray();
    }

    /// <summary>
    /// The fractional training timestep whose σ is <paramref name="sigma"/>: linear interpolation in log σ between the
    /// two neighbouring training sigmas. <paramref name="logSigmas"/> holds float32 values (numpy's <c>np.log</c> of a
    /// float32 array); like the Python, <c>low − high</c> is a float32 difference.
    /// </summary>
    public static double SigmaToT(double sigma, IReadOnlyList<double> logSigmas)
    {
        var logSigma = Math.Log(Math.Max(sigma, 1e-10));
        // low_idx = last index whose log σ ≤ log_sigma (0 if none), clipped so that high_idx exists
        var lowIdx = 0;
        for (var i = 0; i < logSigmas.Count; i++)
            if (logSigma - logSigmas[i] >= 0) lowIdx = i;
        lowIdx = Math.Min(lowIdx, logSigmas.Count - 2);
        var highIdx = lowIdx + 1;
        var low = logSigmas[lowIdx];
        var high = logSigmas[highIdx];
        var w = (low - logSigma) / (float)((float)low - (float)high);
        w = Math.Clamp(w, 0, 1);
        return (1 - w) * lowIdx + w * highIdx;
    }

    /// <summary>log σ_t in float32 (numpy keeps float32 for <c>np.log(float32 array)</c>).</summary>
    public static double[] LogSigmas(IReadOnlyList<double> trainingSigmas) =>
        trainingSigmas.Select(s => (double)(float)Math.Log(s)).ToArray();
}
