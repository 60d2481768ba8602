namespace RichLazyOrleans.Theory;

/// <summary>
/// Where gradient flow of a single neuron or a two-layer linear network ends on data, set against the interpolants
/// theory predicts: the mirror potential's minimiser (<see cref="IMirrorPotential"/>), the Frobenius-nearest
/// interpolant to β₀ (the lazy limit) and the minimum nuclear-norm interpolant (the rich limit, ℓ¹ on singular values).
/// Distances are relative Frobenius norms ‖β − β_ref‖/‖β_ref‖.
/// </summary>
public sealed record ImplicitBiasResult(
    Matrix Beta, Matrix Beta0, double TrainLoss, Matrix? PotentialBeta, Matrix Nearest, Matrix MinNuclear,
    bool? SignFlipped)
{
    public double? PotentialGap => PotentialBeta is null ? null : Distance(Beta, PotentialBeta);
    public double L2Distance => Distance(Beta, Nearest);
    public double NuclearDistance => Distance(Beta, MinNuclear);
    /// <summary>‖β‖_* / min ‖·‖_* − 1 over interpolants (≥ 0 up to rounding when β interpolates).</summary>
    public double NuclearExcess => Interpolants.NuclearNorm(Beta) / Interpolants.NuclearNorm(MinNuclear) - 1;

    /// <summary>
    /// How much of the init's null-space part the flow keeps, ⟨βQ, β₀Q⟩/‖β₀Q‖² (Q projects on null(X)): 1 is lazy
    /// (the Frobenius-nearest interpolant keeps β₀Q whole), 0 is the minimum-norm interpolant (rich, vanishing init).
    /// For the neuron it is a∞/a₀, since w − w₀ stays in X's row space. Null when β₀Q = 0.
    /// </summary>
    public double? NullRetention { get; init; }

    private static double Distance(Matrix a, Matrix b) =>
        (a - b).FrobeniusNorm() / Math.Max(b.FrobeniusNorm(), double.Epsilon);
}

public static class ImplicitBias
{
    /// <summary>Dormand-Prince settings for the flow's limit: tight, and holding the fixed point once at the
    /// integrator's noise floor (t = 1e9 is reached).</summary>
    public static DormandPrince45 Integrator(double rtol = 1e-12, double atol = 1e-16) => new()
    {
        RelativeTolerance = rtol, AbsoluteTolerance = atol, NoiseFloorSteps = DeepLinearNumeric.NoiseFloorSteps,
    };

    /// <summary>
    /// The neuron f(x) = a·wᵀx from (a₀, w₀), rates η_a, η_w. The potential's prediction uses z₀ = sign(a₀)·w₀
    /// (the theorem's: a keeps its sign); <see cref="ImplicitBiasResult.SignFlipped"/> says when a crossed zero.
    /// </summary>
    public static ImplicitBiasResult Neuron(Matrix x, Matrix y, double a0, Matrix w0, double etaA, double etaW,
        double tEnd, DormandPrince45 integrator)
    {
        var data = LinearData.FromSamples(x, y);
        var w = new DeepLinearNumeric(data, [w0, new Matrix(1, 1, [a0])], [etaW, etaA]) { Integrator = integrator }
            .Solve([tEnd])[0].Weights;
        double a = w[1].Data[0];
        var beta = a * w[0];
        double delta = etaW * a0 * a0 - etaA * Math.Pow(w0.FrobeniusNorm(), 2);
        var potential = Interpolants.MirrorLimit(new NeuronPotential(delta, etaA, etaW), Math.Sign(a0) * w0, x, y);
        return new ImplicitBiasResult(beta, a0 * w0, data.Loss(beta), potential,
            Interpolants.NearestFrobenius(a0 * w0, x, y), Interpolants.MinNuclearNorm(x, y),
            Math.Sign(a) != Math.Sign(a0)) { NullRetention = Retention(beta, a0 * w0, x) };
    }

    /// <summary>
    /// The two-layer network from (W₁, W₂), rates η₁, η₂. The hyperbolic entropy's prediction needs λ-balance
    /// (relative 1e-9), |λ| above 1e-9 of the weights' scale, and full width (h = c for λ &gt; 0, h = d for
    /// λ &lt; 0: only then are η₁W₂W₂ᵀ and η₂W₁ᵀW₁ functions of β on all of ℝ^c and ℝ^d), else it is null. It is
    /// exact only while β's singular vectors stay fixed.
    /// </summary>
    public static ImplicitBiasResult TwoLayer(Matrix x, Matrix y, Matrix w1, Matrix w2, double eta1, double eta2,
        double tEnd, DormandPrince45 integrator)
    {
        var data = LinearData.FromSamples(x, y);
        var w = new DeepLinearNumeric(data, [w1, w2], [eta1, eta2]) { Integrator = integrator }
            .Solve([tEnd])[0].Weights;
        var beta = w[1] * w[0];
        var beta0 = w2 * w1;
        var balance = Balance.Of(w1, w2, eta1, eta2);
        Matrix? potential = null;
        bool fullWidth = balance.Lambda > 0 ? w1.Rows == w2.Rows : w1.Rows == w1.Cols;
        // λ within rounding of 0 (a δ = 0 init) has no potential: μ → 0 makes ∇Φ(β₀) ~ log(1/μ) noise.
        double scale = eta1 * w2.TransposeTimes().FrobeniusNorm() + eta2 * w1.TimesTranspose().FrobeniusNorm();
        bool nonZero = Math.Abs(balance.Lambda) > 1e-9 * scale;
        if (balance.RelativeImbalance <= Balance.DefaultTolerance && nonZero && fullWidth)
        {
            var phi = new HyperbolicEntropy(balance.Lambda, eta1, eta2);
            potential = Interpolants.MirrorLimit(phi, phi.Gradient(beta0), x, y);
        }
        return new ImplicitBiasResult(beta, beta0, data.Loss(beta), potential,
            Interpolants.NearestFrobenius(beta0, x, y), Interpolants.MinNuclearNorm(x, y), null)
        { NullRetention = Retention(beta, beta0, x) };
    }

    private static double? Retention(Matrix beta, Matrix beta0, Matrix x)
    {
        var q = Interpolants.NullProjector(x);
        var (bq, b0q) = (beta * q, beta0 * q);
        double norm2 = Math.Pow(b0q.FrobeniusNorm(), 2);
        return norm2 > 0 ? bq.Data.Zip(b0q.Data, (u, v) => u * v).Sum() / norm2 : null;
    }
}
