namespace RichLazyOrleans.Theory;

/// <summary>
/// Kernel distance S = 1 − ⟨K₀, K_t⟩_F / (‖K₀‖_F ‖K_t‖_F) between two neural tangent kernels.
/// </summary>
/// <remarks>
/// Computed as S = ½‖K₀/‖K₀‖ − K_t/‖K_t‖‖²_F, which equals the definition but keeps relative
/// accuracy when the kernel barely moves (1 − cosine loses everything below ~1e-16; the
/// difference form keeps S accurate to about ε/√S relative).
/// </remarks>
public static class KernelDistance
{
    /// <summary>
    /// Kernel distance for kernels of the Kronecker form K = X ⊗ I_m + I_n ⊗ Y (X: n×n, Y: m×m,
    /// symmetric), the NTK of a two-layer linear network on whitened inputs with
    /// X = η₁ W₂W₂ᵀ and Y = η₂ W₁ᵀW₁ (SCIENCE.md §2); the single neuron is n = 1.
    /// The (nm)×(nm) matrix is never formed.
    /// </summary>
    public static double TwoLayer(Matrix x0, Matrix y0, Matrix xt, Matrix yt) => TwoLayer(x0, y0, xt, yt, 1.0, 1.0);

    /// <summary>The same with K = η₁·X ⊗ I + η₂·I ⊗ Y (X = W₂W₂ᵀ, Y = W₁ᵀW₁ unscaled).</summary>
    public static double TwoLayer(Matrix w2w2t0, Matrix w1tw10, Matrix w2w2t, Matrix w1tw1, double eta1, double eta2)
    {
        // ‖η₁X⊗I + η₂I⊗Y‖ = η₂·‖(η₁/η₂)X⊗I + I⊗Y‖: fold the ratio into X's scale.
        double rho = eta1 / eta2;
        double n0 = Math.Sqrt(KroneckerSumNormSquared(w2w2t0, w1tw10, rho, 1, null, null, 0, 0));
        double nt = Math.Sqrt(KroneckerSumNormSquared(w2w2t, w1tw1, rho, 1, null, null, 0, 0));
        if (n0 == 0 || nt == 0) return n0 == nt ? 0.0 : 1.0; // a zero kernel stays zero under the flow
        return Math.Clamp(
            0.5 * KroneckerSumNormSquared(w2w2t0, w1tw10, rho / n0, 1 / n0, w2w2t, w1tw1, rho / nt, 1 / nt), 0.0, 1.0);
    }

    /// <summary>
    /// ‖X ⊗ I_m + I_n ⊗ Y‖²_F as a sum of non-negative terms (no cancellation):
    /// m·Σ_{i≠j} X_ij² + n·Σ_{k≠l} Y_kl² + Σ_{i,k} (X_ii + Y_kk)².
    /// </summary>
    public static double KroneckerSumNormSquared(Matrix x, Matrix y) =>
        KroneckerSumNormSquared(x, y, 1, 1, null, null, 0, 0);

    /// <summary>
    /// The same for X = sx·X₀ − ux·X₁, Y = sy·Y₀ − uy·Y₁ (a normalised difference), without forming it.
    /// </summary>
    private static double KroneckerSumNormSquared(Matrix x0, Matrix y0, double sx, double sy, Matrix? x1, Matrix? y1,
        double ux, double uy)
    {
        int n = x0.Rows, m = y0.Rows;
        double[] a = x0.Data, b = y0.Data, a1 = x1?.Data ?? a, b1 = y1?.Data ?? b;
        double offX = 0, offY = 0, diag = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j) { double v = sx * a[i * n + j] - ux * a1[i * n + j]; offX += v * v; }
        for (int k = 0; k < m; k++)
            for (int l = 0; l < m; l++)
                if (k != l) { double v = sy * b[k * m + l] - uy * b1[k * m + l]; offY += v * v; }
        for (int i = 0; i < n; i++)
        {
            double xi = sx * a[i * n + i] - ux * a1[i * n + i];
            for (int k = 0; k < m; k++)
            {
                double v = xi + (sy * b[k * m + k] - uy * b1[k * m + k]);
                diag += v * v;
            }
        }
        return m * offX + n * offY + diag;
    }

    /// <summary>
    /// Kernel distance of single-neuron NTKs K = x·I_d + p pᵀ (x = η_w a², p = √η_a·w) in O(d):
    /// the normalised difference x̂·I + (u uᵀ − v vᵀ) has, besides x̂ (d − 2 times), the eigenvalues
    /// x̂ + y₁,₂ where y₁,₂ are the roots of y² − T·y − D = 0, T = ‖u‖² − ‖v‖², D = ‖u‖²‖v⊥‖² (v⊥: v
    /// without its component along u). Summing squares of those eigenvalues avoids cancellation.
    /// </summary>
    public static double SingleNeuron(double x0, ReadOnlySpan<double> p0, double xt, ReadOnlySpan<double> pt)
    {
        int d = p0.Length;
        double pp0 = Dot(p0, p0), ppt = Dot(pt, pt);
        double n0 = Math.Sqrt((x0 + pp0) * (x0 + pp0) + (d - 1) * x0 * x0);
        double nt = Math.Sqrt((xt + ppt) * (xt + ppt) + (d - 1) * xt * xt);
        if (n0 == 0 || nt == 0) return n0 == nt ? 0.0 : 1.0;
        double x = x0 / n0 - xt / nt;
        double uu = pp0 / n0, vv = ppt / nt;
        double t = uu - vv;
        if (d == 1) return Math.Clamp(0.5 * (x + t) * (x + t), 0.0, 1.0);
        // ‖v⊥‖² with v = pt/√nt, u = p0/√n0: v⊥ = v − (u·v/‖u‖²)u.
        double vPerp2 = 0;
        if (pp0 > 0)
        {
            double c = Dot(p0, pt) / pp0;   // in the unnormalised vectors
            for (int k = 0; k < d; k++) { double r = pt[k] - c * p0[k]; vPerp2 += r * r; }
            vPerp2 /= nt;
        }
        double det = uu * vPerp2;
        double root = Math.Sqrt(t * t + 4 * det);
        double y1 = 0.5 * (t + (t >= 0 ? root : -root));
        double y2 = y1 != 0 ? -det / y1 : 0.0;
        double s = (x + y1) * (x + y1) + (x + y2) * (x + y2) + (d - 2) * x * x;
        return Math.Clamp(0.5 * s, 0.0, 1.0);
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>
    /// Kernel distance of two explicitly formed kernels (any shape), by the same difference form.
    /// Used for brute-force checks against per-example-gradient NTKs.
    /// </summary>
    public static double Dense(Matrix k0, Matrix kt)
    {
        double n0 = k0.FrobeniusNorm(), nt = kt.FrobeniusNorm();
        if (n0 == 0 || nt == 0) return n0 == nt ? 0.0 : 1.0;
        double s = 0;
        for (int i = 0; i < k0.Data.Length; i++)
        {
            double diff = k0.Data[i] / n0 - kt.Data[i] / nt;
            s += diff * diff;
        }
        return Math.Clamp(0.5 * s, 0.0, 1.0);
    }
}
