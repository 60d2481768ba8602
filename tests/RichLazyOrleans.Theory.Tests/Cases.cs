using RichLazyOrleans.Theory;

namespace RichLazyOrleans.Theory.Tests;

/// <summary>Random problem instances for property tests, reproducible from a seed.</summary>
internal static class Cases
{
    public static double LogUniform(Random r, double lo, double hi) =>
        Math.Exp(Math.Log(lo) + r.NextDouble() * (Math.Log(hi) - Math.Log(lo)));
    public static double Uniform(Random r, double lo, double hi) => lo + r.NextDouble() * (hi - lo);

    public static double Gaussian(Random r)
    {
        double u1 = 1.0 - r.NextDouble(), u2 = r.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public static double[] GaussianVector(Random r, int n) => Enumerable.Range(0, n).Select(_ => Gaussian(r)).ToArray();

    public static Matrix GaussianMatrix(Random r, int rows, int cols) =>
        new(rows, cols, GaussianVector(r, rows * cols));

    public static double[] Scale(double[] v, double s) => v.Select(x => x * s).ToArray();

    /// <summary>A random matrix with orthonormal columns (n×k, k ≤ n), by Gram-Schmidt twice.</summary>
    public static Matrix Orthonormal(Random r, int n, int k)
    {
        var q = GaussianMatrix(r, n, k);
        for (int j = 0; j < k; j++)
        {
            for (int pass = 0; pass < 2; pass++)
                for (int p = 0; p < j; p++)
                {
                    double dot = 0;
                    for (int i = 0; i < n; i++) dot += q[i, p] * q[i, j];
                    for (int i = 0; i < n; i++) q[i, j] -= dot * q[i, p];
                }
            double norm = 0;
            for (int i = 0; i < n; i++) norm += q[i, j] * q[i, j];
            norm = Math.Sqrt(norm);
            for (int i = 0; i < n; i++) q[i, j] /= norm;
        }
        return q;
    }

    public sealed record SingleNeuronCase(int Seed, double[] BetaStar, double A0, double[] W0, double EtaA, double EtaW,
        double Tau, double DeltaParam)
    {
        public override string ToString() =>
            $"seed={Seed} d={BetaStar.Length} tau={Tau:G4} delta={DeltaParam:G4} eta_a={EtaA:G4} eta_w={EtaW:G4} " +
            $"|beta*|={Matrix.Norm2(BetaStar):G4} a0={A0:G4} |w0|={Matrix.Norm2(W0):G4}";
    }

    /// <summary>
    /// d ∈ [1, 10], δ ∈ [−10, 10], τ ∈ [1e-3, 10] (log), η ∈ [0.1, 10] (log), ‖β*‖ ∈ [0.1, 10] (log).
    /// </summary>
    public static SingleNeuronCase SingleNeuron(int seed)
    {
        var r = new Random(seed);
        int d = r.Next(1, 11);
        double tau = LogUniform(r, 1e-3, 10), delta = Uniform(r, -10, 10);
        double etaA = LogUniform(r, 0.1, 10), etaW = LogUniform(r, 0.1, 10);
        var beta = GaussianVector(r, d);
        beta = Scale(beta, LogUniform(r, 0.1, 10) / Matrix.Norm2(beta));
        var dir = GaussianVector(r, d);
        double alpha = Initialisation.Alpha(tau, delta);
        double sign = r.NextDouble() < 0.5 ? -1 : 1;
        return new SingleNeuronCase(seed, beta, sign * tau / alpha, Scale(dir, tau * alpha / Matrix.Norm2(dir)), etaA,
            etaW, tau, delta);
    }

    public sealed record TwoLayerCase(int Seed, Matrix Sigma, Matrix W1, Matrix W2, double Eta1, double Eta2,
        double Lambda, double Tau)
    {
        public override string ToString() =>
            $"seed={Seed} d={Sigma.Cols} c={Sigma.Rows} h={W1.Rows} lambda={Lambda:G4} tau={Tau:G4} " +
            $"eta1={Eta1:G4} eta2={Eta2:G4}";
    }

    /// <summary>
    /// A λ-balanced init: η₁W₂ᵀW₂ − η₂W₁W₁ᵀ = λI exactly up to round-off. With rates scaled out
    /// (Wᵢ = √ηᵢ W̃ᵢ, λ̃ = λ/(η₁η₂)): for λ̃ ≥ 0 pick W̃₁ and set W̃₂ = O·(λ̃I + W̃₁W̃₁ᵀ)^{1/2} with O
    /// (c×h) orthonormal columns; for λ̃ &lt; 0 the mirror image.
    /// </summary>
    public static TwoLayerCase TwoLayer(int seed, int? dFixed = null, int? cFixed = null, int? hFixed = null,
        double? lambdaFixed = null)
    {
        var r = new Random(seed);
        int d = dFixed ?? r.Next(1, 11), c = cFixed ?? r.Next(1, 11);
        double lambda = lambdaFixed ?? Uniform(r, -10, 10);
        int hMax = lambda > 0 ? c : lambda < 0 ? d : Math.Min(c, d);
        int h = hFixed ?? r.Next(1, hMax + 1);
        double tau = LogUniform(r, 1e-3, 10);
        double eta1 = LogUniform(r, 0.1, 10), eta2 = LogUniform(r, 0.1, 10);
        var sigma = GaussianMatrix(r, c, d);
        sigma = (LogUniform(r, 0.3, 5) / sigma.FrobeniusNorm()) * sigma;
        double lt = lambda / (eta1 * eta2);
        Matrix w1t, w2t;
        if (lt >= 0)
        {
            w1t = (tau / Math.Sqrt(h * d)) * GaussianMatrix(r, h, d);
            var m = lt * Matrix.Identity(h) + w1t.TimesTranspose();
            w2t = Orthonormal(r, c, h) * new SymmetricEigen(m).Apply(x => Math.Sqrt(Math.Max(x, 0)));
        }
        else
        {
            w2t = (tau / Math.Sqrt(h * c)) * GaussianMatrix(r, c, h);
            var m = -lt * Matrix.Identity(h) + w2t.TransposeTimes();
            w1t = new SymmetricEigen(m).Apply(x => Math.Sqrt(Math.Max(x, 0))) * Orthonormal(r, d, h).Transpose();
        }
        return new TwoLayerCase(seed, sigma, Math.Sqrt(eta1) * w1t, Math.Sqrt(eta2) * w2t, eta1, eta2, lambda, tau);
    }

    /// <summary>‖x − y‖ / scale, the normwise relative difference used throughout.</summary>
    public static double RelDiff(ReadOnlySpan<double> x, ReadOnlySpan<double> y, double scale)
    {
        var diff = new double[x.Length];
        for (int i = 0; i < x.Length; i++) diff[i] = x[i] - y[i];
        double n = Matrix.Norm2(diff);
        return n == 0 ? 0 : n / scale;
    }
}
