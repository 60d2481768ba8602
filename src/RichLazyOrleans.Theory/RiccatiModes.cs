namespace RichLazyOrleans.Theory;

/// <summary>
/// Scalar pieces of the exact solution P(t) = e^{At}Q₀(I + Q₀ᵀG(t)Q₀)⁻¹Q₀ᵀe^{At} written in the
/// eigenbasis of A, for one eigenvalue μ at time t &gt; 0:
///   g(μ,t) = ∫₀ᵗ e^{2μs} ds = expm1(2μt)/(2μ)   (t when μ = 0), and
///   f(μ,t)² = e^{2μt}/g(μ,t) = 2μ / (−expm1(−2μt)) (1/t when μ = 0).
/// The textbook form multiplies e^{μt} (overflows for t ≈ 700/μ) by (I + …)⁻¹ (underflows).
/// The solvers instead use log g, which grows only linearly in t, and f, which stays bounded
/// (→ √(2μ) for μ &gt; 0, → 0 for μ &lt; 0), so every time up to 1e9 and beyond stays exact.
/// </summary>
public static class RiccatiModes
{
    /// <summary>
    /// log g(μ, t) and f(μ, t)² for t &gt; 0, accurate for every sign and size of μt, computed
    /// together so they share their exponentials (the hot path of the solvers).
    /// <paramref name="logTwoAbsMu"/> is log(2|μ|), precomputed by the caller (ignored for μ = 0).
    /// </summary>
    public static void Evaluate(double mu, double logTwoAbsMu, double t, out double logG, out double f2)
    {
        if (mu == 0) { logG = Math.Log(t); f2 = 1 / t; return; }
        double x = 2 * mu * t;
        if (mu > 0)
        {
            double e = -ExpM1(-x);               // 1 − e^{−2μt} ∈ (0, 1]
            logG = x + Math.Log(e) - logTwoAbsMu;
            f2 = 2 * mu / e;
        }
        else
        {
            double ex = Math.Exp(x);             // e^{2μt} ∈ (0, 1)
            double e = x > -0.5 ? -ExpM1(x) : 1 - ex;
            logG = Math.Log(e) - logTwoAbsMu;
            f2 = -2 * mu * ex / e;
        }
    }

    /// <summary>
    /// e^x − 1 without cancellation for small |x| (Math has none; double.ExpM1 is exp(x) − 1):
    /// 2·tanh(x/2)/(1 − tanh(x/2)), accurate to a few ulps since tanh is and 1 − tanh(x/2) &gt; 0.75.
    /// </summary>
    public static double ExpM1(double x)
    {
        if (Math.Abs(x) < 0.5)
        {
            double th = Math.Tanh(0.5 * x);
            return 2 * th / (1 - th);
        }
        return Math.Exp(x) - 1.0;
    }
}
