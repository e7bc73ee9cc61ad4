using MultiModal.Models.Schedulers;
using Xunit;

namespace MultiModal.Tests.Unit.Schedulers;

public sealed class LmsCoefficientsTests
{
    // A realistic descending σ run (SD 1.5, 20 steps) plus the final 0.
    private static readonly double[] Sigmas = [14.6146, 10.9042, 8.3028, 6.4430, 5.0878, 4.0817, 3.3211, 2.7355, 2.2765, 0.0];

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 3)]
    [InlineData(3, 5)]
    [InlineData(4, 7)]
    [InlineData(4, 8)]
    public void Coefficient_AnyOrder_EqualsExactIntegralOfExpandedLagrangePolynomial(int order, int t)
    {
        for (var j = 0; j < order; j++)
        {
            var expected = ExactIntegral(order, t, j);
            var actual = LmsCoefficients.Coefficient(Sigmas, order, t, j);
            Assert.True(Math.Abs(actual - expected) <= 1e-12 * Math.Max(1, Math.Abs(expected)), $"j={j}: {actual:R} vs {expected:R}");
        }
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(4, 8)]
    public void Coefficients_Summed_EqualTheStepLength(int order, int t)
    {
        // the Lagrange basis sums to 1, so Σ_j c_j = σ_{t+1} − σ_t
        var sum = Enumerable.Range(0, order).Sum(j => LmsCoefficients.Coefficient(Sigmas, order, t, j));

        Assert.Equal(Sigmas[t + 1] - Sigmas[t], sum, 12);
    }

    [Fact]
    public void Coefficient_SecondOrder_MatchesClosedForm()
    {
        // ℓ_0(τ) = (τ − σ_{t−1})/(σ_t − σ_{t−1}) ⇒ ∫ = ((b − σ_{t−1})² − (a − σ_{t−1})²) / (2(σ_t − σ_{t−1}))
        const int t = 4;
        double a = Sigmas[t], b = Sigmas[t + 1], s1 = Sigmas[t - 1];
        var expected = ((b - s1) * (b - s1) - (a - s1) * (a - s1)) / (2 * (a - s1));

        Assert.Equal(expected, LmsCoefficients.Coefficient(Sigmas, 2, t, 0), 12);
    }

    [Fact]
    public void Coefficient_NotEnoughHistory_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LmsCoefficients.Coefficient(Sigmas, 4, 2, 0));
    }

    /// <summary>Independent reference: expand ∏(τ − σ_k)/(σ_j − σ_k) into monomials and integrate term by term.</summary>
    private static double ExactIntegral(int order, int t, int j)
    {
        var poly = new double[] { 1.0 }; // coefficients of τ^0, τ^1, …
        for (var k = 0; k < order; k++)
        {
            if (k == j) continue;
            var denom = Sigmas[t - j] - Sigmas[t - k];
            var next = new double[poly.Length + 1];
            for (var p = 0; p < poly.Length; p++)
            {
                next[p + 1] += poly[p] / denom;
                next[p] -= poly[p] * Sigmas[t - k] / denom;
            }
            poly = next;
        }
        double Antiderivative(double x) => poly.Select((c, p) => c * Math.Pow(x, p + 1) / (p + 1)).Sum();
        return Antiderivative(Sigmas[t + 1]) - Antiderivative(Sigmas[t]);
    }
}
