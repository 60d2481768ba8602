namespace RichLazyOrleans.Theory;

/// <summary>
/// The (τ, δ, α) parametrisation of SCIENCE.md: a hidden unit starts with ‖w‖ = τα and
/// |a| = τ/α, so δ = τ²(1/α² − α²).
/// </summary>
public static class Initialisation
{
    /// <summary>
    /// α(τ, δ) = √((√(4 + r²) − r)/2) with r = δ/τ², written without cancellation for r ≫ 1
    /// (√(4 + r²) − r = 4/(√(4 + r²) + r)).
    /// </summary>
    public static double Alpha(double tau, double delta)
    {
        if (!(tau > 0) || !double.IsFinite(tau)) throw new ArgumentOutOfRangeException(nameof(tau), tau, "tau must be finite and > 0");
        if (!double.IsFinite(delta)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "delta must be finite");
        double r = delta / (tau * tau);
        double root = double.Hypot(2, r);
        double num = r >= 0 ? 4 / (root + r) : root - r;
        return Math.Sqrt(num / 2);
    }

    /// <summary>δ(τ, α) = τ²(1/α² − α²).</summary>
    public static double Delta(double tau, double alpha) => tau * tau * (1 / (alpha * alpha) - alpha * alpha);
}
