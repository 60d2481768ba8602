namespace RichLazyOrleans.Theory;

/// <summary>
/// Interpolants of underdetermined linear data, βXᵀ = Yᵀ (β c×d, X n×d with full row rank n ≤ d, Y n×c): the ones the
/// flow's two limits reach, and the minimiser of a mirror potential (which one gradient flow reaches in between).
/// </summary>
public static class Interpolants
{
    /// <summary>The interpolant nearest β₀ in Frobenius norm, β₀ + (Yᵀ − β₀Xᵀ)(XXᵀ)⁻¹X: where lazy training (a
    /// linear model's gradient flow from β₀) ends.</summary>
    public static Matrix NearestFrobenius(Matrix beta0, Matrix x, Matrix y) =>
        beta0 + (y.Transpose() - beta0 * x.Transpose()) * SpdInverse(x.TimesTranspose()) * x;

    /// <summary>
    /// The minimum nuclear-norm interpolant, which here is the minimum-Frobenius one, Yᵀ(XXᵀ)⁻¹X. The constraint
    /// βXᵀ = Yᵀ only sees βP (P the projector on X's row space, Q = I − P), and
    /// ‖β‖_* = tr√(βPβᵀ + βQβᵀ) ≥ tr√(βPβᵀ) = ‖βP‖_*, strictly unless βQ = 0 (√ is operator monotone). So every
    /// unitarily invariant norm is minimised by the same interpolant: in this model the rich limit (ℓ¹ on singular
    /// values) and the lazy limit from a zero init coincide, and an init shows its bias only through βQ.
    /// </summary>
    public static Matrix MinNuclearNorm(Matrix x, Matrix y) => NearestFrobenius(new Matrix(y.Cols, x.Cols), x, y);

    /// <summary>Q = I − Xᵀ(XXᵀ)⁻¹X, the projector on the null space of X (d×d).</summary>
    public static Matrix NullProjector(Matrix x) =>
        Matrix.Identity(x.Cols) - x.Transpose() * SpdInverse(x.TimesTranspose()) * x;

    /// <summary>Sum of singular values, from the eigenvalues of the smaller Gram matrix.</summary>
    public static double NuclearNorm(Matrix m) =>
        new SymmetricEigen(m.Rows <= m.Cols ? m.TimesTranspose() : m.TransposeTimes()).Values
            .Sum(v => Math.Sqrt(Math.Max(v, 0)));

    /// <summary>
    /// argmin Φ(β) − ⟨z₀, β⟩ subject to βXᵀ = Yᵀ, by Newton's method on the dual: minimise
    /// F(Λ) = Φ*(z₀ + ΛX) − ⟨Λ, Yᵀ⟩ over Λ (c×n), whose gradient is the residual βXᵀ − Yᵀ with β = ∇Φ*(z₀ + ΛX).
    /// The Hessian is taken by central differences of that gradient (c·n ≤ a few dozen unknowns); steps are damped
    /// (Armijo on F, or on the residual once F stops resolving). Stops at a residual of 1e-14 relative to ‖Y‖.
    /// </summary>
    public static Matrix MirrorLimit(IMirrorPotential potential, Matrix z0, Matrix x, Matrix y, int maxIterations = 200,
        Action<string>? log = null)
    {
        var yt = y.Transpose();
        double target = 1e-14 * Math.Max(yt.FrobeniusNorm(), 1e-300);
        var lam = new Matrix(yt.Rows, yt.Cols);
        Matrix Beta(Matrix l) => potential.ConjugateGradient(z0 + l * x);
        Matrix Residual(Matrix l) => Beta(l) * x.Transpose() - yt;
        double Objective(Matrix l) => potential.Conjugate(z0 + l * x) - Dot(l, yt);
        for (int it = 0; it < maxIterations; it++)
        {
            var g = Residual(lam);
            double gNorm = g.FrobeniusNorm();
            if (gNorm <= target) break;
            var step = NewtonStep(Residual, lam, g);
            double f0 = Objective(lam), slope = Dot(g, step);
            double t = 1;
            for (int halving = 0; halving < 60; halving++, t /= 2)
            {
                var trial = lam + t * step;
                double f = Objective(trial);
                if (!double.IsFinite(f)) continue;
                if (f <= f0 + 1e-4 * t * slope || Residual(trial).FrobeniusNorm() < (1 - 1e-4 * t) * gNorm) break;
            }
            lam = lam + t * step;
            log?.Invoke($"{it}: |g| {gNorm:E3} F {f0:E6} t {t:E2} |step| {step.FrobeniusNorm():E2}");
        }
        return Beta(lam);
    }

    /// <summary>Solves H·p = −g with H the symmetrised central-difference Jacobian of the residual at Λ.</summary>
    private static Matrix NewtonStep(Func<Matrix, Matrix> residual, Matrix lam, Matrix g)
    {
        int m = lam.Data.Length;
        var h = new Matrix(m, m);
        for (int j = 0; j < m; j++)
        {
            double e = 1e-6 * (1 + Math.Abs(lam.Data[j]));
            var plus = lam.Clone();
            var minus = lam.Clone();
            plus.Data[j] += e;
            minus.Data[j] -= e;
            var diff = residual(plus) - residual(minus);
            for (int i = 0; i < m; i++) h[i, j] = diff.Data[i] / (2 * e);
        }
        var eig = new SymmetricEigen(0.5 * (h + h.Transpose()));
        double top = eig.Values.Max();
        // A flat dual (z₀ + ΛX inside the neuron's ball where β = 0) has no curvature: fall back to steepest descent.
        // Otherwise curvature below 1e-14 of the largest is raised to it, which bounds the step.
        var step = !(top > 0) ? -1 * g
            : new Matrix(lam.Rows, lam.Cols,
                (eig.Apply(v => -1 / Math.Max(v, 1e-14 * top)) * new Matrix(m, 1, g.Data)).Data);
        return step;
    }

    /// <summary>The inverse of a symmetric positive definite matrix through its eigendecomposition (Jacobi: accurate
    /// to a few ulps of its norm).</summary>
    private static Matrix SpdInverse(Matrix a) => new SymmetricEigen(a).Apply(v => 1 / v);

    private static double Dot(Matrix a, Matrix b) => a.Data.Zip(b.Data, (p, q) => p * q).Sum();
}
