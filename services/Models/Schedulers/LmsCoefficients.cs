namespace MultiModal.Models.Schedulers;

/// <summary>
/// Linear multistep coefficients of the LMS sampler: c_j = ∫_{σ_i}^{σ_{i+1}} ℓ_j(τ) dτ, where ℓ_j is the Lagrange basis
/// polynomial through the current and previous sigmas σ_i, σ_{i−1}, …, σ_{i−order+1}. diffusers integrates this with
/// <c>scipy.integrate.quad</c> (adaptive Gauss–Kronrod 21, epsrel 1e-4); ℓ_j has degree order − 1 ≤ 3, so
/// Gauss–Legendre with 4 nodes integrates it exactly (degree ≤ 7), which is what quad's first GK21 pass also does.
/// </summary>
public static class LmsCoefficients
{
    // 4-point Gauss–Legendre on [−1, 1]: ±√(3/7 ∓ 2/7·√(6/5)), weights (18 ± √30)/36.
    private static readonly double[] Nodes =
    [
        -Math.Sqrt(3.0 / 7 + 2.0 / 7 * Math.Sqrt(6.0 / 5)), -Math.Sqrt(3.0 / 7 - 2.0 / 7 * Math.Sqrt(6.0 / 5)),
        Math.Sqrt(3.0 / 7 - 2.0 / 7 * Math.Sqrt(6.0 / 5)), Math.Sqrt(3.0 / 7 + 2.0 / 7 * Math.Sqrt(6.0 / 5)),
    ];

    private static readonly double[] Weights =
    [
        (18 - Math.Sqrt(30)) / 36, (18 + Math.Sqrt(30)) / 36, (18 + Math.Sqrt(30)) / 36, (18 - Math.Sqrt(30)) / 36,
    ];

    /// <summary>Maximum supported order (the basis must have degree ≤ 7 for the quadrature to be exact).</summary>
    public const int MaxOrder = 8;

    /// <summary>
    /// diffusers' <c>get_lms_coefficient(order, t, current_order)</c>: ∫_{σ[t]}^{σ[t+1]} ∏_{k≠j} (τ − σ[t−k])/(σ[t−j] − σ[t−k]) dτ
    /// with j = <paramref name="currentOrder"/>.
    /// </summary>
    public static double Coefficient(IReadOnlyList<double> sigmas, int order, int t, int currentOrder)
    {
        if (order < 1 || order > MaxOrder) throw new ArgumentOutOfRangeException(nameof(order), order, $"order must be in [1, {MaxOrder}].");
        if (t - order + 1 < 0 || t + 1 >= sigmas.Count) throw new ArgumentOutOfRangeException(nameof(t), t, "Not enough sigmas around t.");
        if (currentOrder < 0 || currentOrder >= order) throw new ArgumentOutOfRangeException(nameof(currentOrder));

        double Basis(double tau)
        {
            var prod = 1.0;
            for (var k = 0; k < order; k++)
                if (k != currentOrder)
                    prod *= (tau - sigmas[t - k]) / (sigmas[t - currentOrder] - sigmas[t - k]);
            return prod;
        }

        double a = sigmas[t], b = sigmas[t + 1];
        double half = (b - a) / 2, mid = (a + b) / 2, sum = 0;
        for (var i = 0; i < Nodes.Length; i++) sum += Weights[i] * Basis(mid + half * Nodes[i]);
        return half * sum;
    }
}
