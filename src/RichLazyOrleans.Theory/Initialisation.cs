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
        RequireScale(tau);
        if (!double.IsFinite(delta))
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "delta must be finite");
        double r = delta / (tau * tau);
        double root = double.Hypot(2, r);
        double num = r >= 0 ? 4 / (root + r) : root - r;
        return Math.Sqrt(num / 2);
    }

    /// <summary>δ(τ, α) = τ²(1/α² − α²).</summary>
    public static double Delta(double tau, double alpha) => tau * tau * (1 / (alpha * alpha) - alpha * alpha);

    /// <summary>
    /// A λ-balanced two-layer init of scale τ split by α: W₁ = τα·O₁ (h×d, orthonormal rows) and W₂ = (τ/α)·O₂ (c×h,
    /// orthonormal columns), so W₂ᵀW₂ − W₁W₁ᵀ = τ²(1/α² − α²)·I = δ·I exactly (rates 1), every hidden unit with
    /// ‖w_k‖ = τα and ‖a_k‖ = τ/α as in SCIENCE.md. O₁, O₂ orthonormalise draws of <paramref name="gaussian"/>.
    /// Needs h ≤ min(c, d).
    /// </summary>
    public static (Matrix W1, Matrix W2) BalancedTwoLayer(
        int d, int h, int c, double tau, double alpha, Func<double> gaussian)
    {
        if (h < 1 || h > Math.Min(c, d))
            throw new ArgumentOutOfRangeException(nameof(h), h,
                $"a balanced init needs 1 <= h <= min(c, d) = {Math.Min(c, d)}");
        RequireScale(tau);
        if (!(alpha > 0) || !double.IsFinite(alpha))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be finite and > 0");
        var w1 = (tau * alpha) * OrthonormalColumns(d, h, gaussian).Transpose();
        var w2 = (tau / alpha) * OrthonormalColumns(c, h, gaussian);
        return (w1, w2);
    }

    private static void RequireScale(double tau)
    {
        if (!(tau > 0) || !double.IsFinite(tau))
            throw new ArgumentOutOfRangeException(nameof(tau), tau, "tau must be finite and > 0");
    }

    /// <summary>An n×k matrix with orthonormal columns (k ≤ n): Gaussian draws through Gram-Schmidt, twice for
    /// orthogonality to rounding.</summary>
    public static Matrix OrthonormalColumns(int n, int k, Func<double> gaussian)
    {
        var q = new Matrix(n, k);
        for (int j = 0; j < k; j++)
        {
            var v = new double[n];
            double norm;
            do
            {
                for (int i = 0; i < n; i++) v[i] = gaussian();
                for (int pass = 0; pass < 2; pass++)
                    for (int m = 0; m < j; m++)
                    {
                        double dot = 0;
                        for (int i = 0; i < n; i++) dot += q[i, m] * v[i];
                        for (int i = 0; i < n; i++) v[i] -= dot * q[i, m];
                    }
                norm = Matrix.Norm2(v);
            } while (!(norm > 1e-8));
            for (int i = 0; i < n; i++) q[i, j] = v[i] / norm;
        }
        return q;
    }
}
