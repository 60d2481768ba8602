namespace RichLazyOrleans.Theory;

/// <summary>
/// A strictly convex potential Φ on β (c×d) for a mirror flow d/dt ∇Φ(β) = −ξ(t)·∇L(β), ξ &gt; 0. On data with
/// ∇L ∈ {ΛX}, such a flow that interpolates ends at argmin Φ(β) − ⟨∇Φ(β₀), β⟩ subject to βXᵀ = Yᵀ
/// (<see cref="Interpolants.MirrorLimit"/>). Derivations in docs/implicit-bias.md.
/// </summary>
public interface IMirrorPotential
{
    /// <summary>The mirror map ∇Φ(β).</summary>
    Matrix Gradient(Matrix beta);

    /// <summary>Its inverse ∇Φ*(z): the β whose mirror image is z.</summary>
    Matrix ConjugateGradient(Matrix z);

    /// <summary>The convex conjugate Φ*(z) (up to a constant).</summary>
    double Conjugate(Matrix z);
}

/// <summary>
/// The single neuron f(x) = a·wᵀx under ȧ = −η_a ∂L/∂a, ẇ = −η_w ∇_wL, δ = η_w a² − η_a‖w‖². The mirror variable
/// is w itself: ẇ = −η_w·a·∇_βL, and a² = (δ + η_a‖w‖²)/η_w, so while a &gt; 0, w = ∇Φ(β) with a time warp
/// ξ = η_w·a. Φ is radial: ∇Φ*(z) = z·√((δ + η_a‖z‖²)₊/η_w) (β = a·w), Φ*(z) = (δ + η_a‖z‖²)₊^{3/2}/(3η_a√η_w).
/// For a &lt; 0 use the mirror image z = −w (the flow of (−a, −w) is the same β).
/// </summary>
public sealed class NeuronPotential(double delta, double etaA = 1, double etaW = 1) : IMirrorPotential
{
    public double Delta { get; } = delta;

    public Matrix Gradient(Matrix beta)
    {
        double r = beta.FrobeniusNorm();
        if (r == 0) return new Matrix(beta.Rows, beta.Cols);   // for δ < 0 any z in the ball ‖z‖² ≤ −δ/η_a
        // ‖w‖² = q² solves η_a q⁴ + δq² − η_w r² = 0; the δ > 0 branch is written without cancellation.
        double root = Math.Sqrt(Delta * Delta + 4 * etaA * etaW * r * r);
        double q2 = Delta > 0 ? 2 * etaW * r * r / (Delta + root) : (root - Delta) / (2 * etaA);
        return (Math.Sqrt(q2) / r) * beta;
    }

    public Matrix ConjugateGradient(Matrix z)
    {
        double q = z.FrobeniusNorm();
        double a2 = (Delta + etaA * q * q) / etaW;
        return a2 > 0 ? Math.Sqrt(a2) * z : new Matrix(z.Rows, z.Cols);
    }

    public double Conjugate(Matrix z)
    {
        double q = z.FrobeniusNorm();
        double s = Math.Max(Delta + etaA * q * q, 0);
        return s * Math.Sqrt(s) / (3 * etaA * Math.Sqrt(etaW));
    }
}

/// <summary>
/// The λ-balanced two-layer network's potential on the singular values (a hyperbolic entropy): when β's singular
/// vectors stay fixed, each singular value follows σ̇ = −√(4σ² + μ²)·g with μ = |λ|/√(η₁η₂), so
/// φ'(σ) = ½·arsinh(2σ/μ): ∇Φ(β) = U·½arsinh(2Σ/μ)·Vᵀ, ∇Φ*(Z) = U·(μ/2)sinh(2Σ)·Vᵀ, Φ*(Z) = Σᵢ (μ/2)·sinh²(σᵢ).
/// μ → ∞: ℓ² (lazy); μ → 0: ½σ·log σ, ℓ¹-like on the singular values (rich).
/// </summary>
public sealed class HyperbolicEntropy : IMirrorPotential
{
    public double Mu { get; }

    public HyperbolicEntropy(double lambda, double eta1 = 1, double eta2 = 1)
    {
        Mu = Math.Abs(lambda) / Math.Sqrt(eta1 * eta2);
        if (!(Mu > 0) || !double.IsFinite(Mu))
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "the potential needs a finite λ ≠ 0");
    }

    public Matrix Gradient(Matrix beta) =>
        Spectral(beta, s2 => s2 == 0 ? 1 / Mu : double.Asinh(2 * Math.Sqrt(s2) / Mu) / (2 * Math.Sqrt(s2)));

    public Matrix ConjugateGradient(Matrix z) =>
        Spectral(z, s2 => s2 == 0 ? Mu : Mu / 2 * Math.Sinh(2 * Math.Sqrt(s2)) / Math.Sqrt(s2));

    public double Conjugate(Matrix z) =>
        new SymmetricEigen(z.TimesTranspose()).Values
            .Sum(s2 => Mu / 2 * Math.Pow(Math.Sinh(Math.Sqrt(Math.Max(s2, 0))), 2));

    /// <summary>U·diag(σ·f(σ²))·Vᵀ = (U diag f(σ²) Uᵀ)·M, from the c×c Gram matrix MMᵀ (f smooth in σ²).</summary>
    private static Matrix Spectral(Matrix m, Func<double, double> f) =>
        new SymmetricEigen(m.TimesTranspose()).Apply(s2 => f(Math.Max(s2, 0))) * m;
}
