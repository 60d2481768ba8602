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
    public static double TwoLayer(Matrix x0, Matrix y0, Matrix xt, Matrix yt)
    {
        double n0 = Math.Sqrt(KroneckerSumNormSquared(x0, y0));
        double nt = Math.Sqrt(KroneckerSumNormSquared(xt, yt));
        if (n0 == 0 || nt == 0) return n0 == nt ? 0.0 : 1.0; // a zero kernel stays zero under the flow
        var dx = (1 / n0) * x0 - (1 / nt) * xt;
        var dy = (1 / n0) * y0 - (1 / nt) * yt;
        return Math.Clamp(0.5 * KroneckerSumNormSquared(dx, dy), 0.0, 1.0);
    }

    /// <summary>
    /// ‖X ⊗ I_m + I_n ⊗ Y‖²_F as a sum of non-negative terms (no cancellation):
    /// m·Σ_{i≠j} X_ij² + n·Σ_{k≠l} Y_kl² + Σ_{i,k} (X_ii + Y_kk)².
    /// </summary>
    public static double KroneckerSumNormSquared(Matrix x, Matrix y)
    {
        int n = x.Rows, m = y.Rows;
        double offX = 0, offY = 0, diag = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j) offX += x[i, j] * x[i, j];
        for (int k = 0; k < m; k++)
            for (int l = 0; l < m; l++)
                if (k != l) offY += y[k, l] * y[k, l];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < m; k++)
            {
                double s = x[i, i] + y[k, k];
                diag += s * s;
            }
        return m * offX + n * offY + diag;
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
