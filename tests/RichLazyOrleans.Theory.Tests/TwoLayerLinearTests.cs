using RichLazyOrleans.Theory;
using Xunit.Abstractions;

namespace RichLazyOrleans.Theory.Tests;

/// <summary>
/// The exact λ-balanced two-layer solution against the numerical gradient flow in the raw weights,
/// the conservation law Δ = λI, brute-force per-example NTKs, the Eckart-Young limit and the single
/// neuron (h = c = 1).
/// </summary>
public class TwoLayerLinearTests(ITestOutputHelper output)
{
    private const double Agreement = 1e-8;

    /// <summary>Growth rate of the fastest mode and the slowest relaxation, to pick test times.</summary>
    private static (double Fast, double Slow) Rates(Cases.TwoLayerCase cs)
    {
        var mu = EigenOfA(cs);
        double rate = cs.Eta1 * cs.Eta2;
        double fast = Math.Max(mu[0], 1e-3);
        // Relaxation into the top-h subspace goes at the gap μ_h − μ_{h+1}.
        int h = cs.W1.Rows;
        double gap = h < mu.Length ? mu[h - 1] - mu[h] : fast;
        return (rate * fast, rate * Math.Max(gap, 1e-3 * fast));
    }

    private static double[] EigenOfA(Cases.TwoLayerCase cs)
    {
        int c = cs.Sigma.Rows, d = cs.Sigma.Cols;
        double lt = cs.Lambda / (cs.Eta1 * cs.Eta2), s = Math.Sqrt(cs.Eta1 * cs.Eta2);
        var a = new Matrix(d + c, d + c);
        for (int i = 0; i < d; i++) a[i, i] = -lt / 2;
        for (int k = 0; k < c; k++) a[d + k, d + k] = lt / 2;
        for (int k = 0; k < c; k++)
            for (int i = 0; i < d; i++) { a[d + k, i] = cs.Sigma[k, i] / s; a[i, d + k] = cs.Sigma[k, i] / s; }
        return new SymmetricEigen(a).Values;
    }

    private static void AssertAgree(TwoLayerLinearState e, TwoLayerLinearState n, string context)
    {
        // Natural scale of the weights: ‖Q‖² = ‖W₁‖² + ‖W₂‖² = tr(W₁ᵀW₁) + tr(W₂W₂ᵀ).
        double q2 = e.W1tW1.Trace() + e.W2W2t.Trace();
        // β and the Gram blocks can be tiny compared with ‖Q‖² (a mode that decays); the numerical
        // reference knows them only to ~rtol·‖Q‖² (rtol = 1e-12), hence the 1e-11·‖Q‖² floor.
        void Check(string name, Matrix x, Matrix y)
        {
            double err = (x - y).FrobeniusNorm(), tol = Agreement * x.FrobeniusNorm() + 1e-11 * q2;
            Assert.True(err <= tol, $"{name} differs by {err:G3} > {tol:G3} at t={e.T:G6}; {context}");
        }
        Check("beta", e.Beta, n.Beta);
        Check("W1tW1", e.W1tW1, n.W1tW1);
        Check("W2W2t", e.W2W2t, n.W2W2t);
        Assert.True(Math.Abs(e.KernelDistance - n.KernelDistance) <= Agreement * e.KernelDistance + 1e-15,
            $"kernel distance {e.KernelDistance:R} vs {n.KernelDistance:R} at t={e.T:G6}; {context}");
        double re = Math.Sqrt(2 * e.Loss), rn = Math.Sqrt(2 * n.Loss);
        Assert.True(Math.Abs(re - rn) <= Agreement * re + Agreement * e.Beta.FrobeniusNorm() + 1e-11 * q2,
            $"loss {e.Loss:R} vs {n.Loss:R} at t={e.T:G6}; {context}");
    }

    [Fact]
    public void Exact_matches_numerical_gradient_flow_on_random_balanced_cases()
    {
        double worst = 0;
        int points = 0;
        for (int seed = 1; seed <= 100; seed++)
        {
            var cs = Cases.TwoLayer(seed);
            var exact = new TwoLayerLinearExact(cs.Sigma, cs.W1, cs.W2, cs.Eta1, cs.Eta2);
            var (fast, slow) = Rates(cs);
            var times = SingleNeuronTests.TimesFor(fast, slow);
            var numeric = new TwoLayerLinearNumeric(cs.Sigma, cs.W1, cs.W2, cs.Eta1, cs.Eta2)
                { Integrator = SingleNeuronTests.TightIntegrator }.Solve(times);
            for (int i = 0; i < times.Length; i++)
            {
                var e = exact.At(times[i]);
                AssertAgree(e, numeric[i], cs.ToString());
                worst = Math.Max(worst,
                    (e.Beta - numeric[i].Beta).FrobeniusNorm() / Math.Max(e.Beta.FrobeniusNorm(), 1e-300));
                points++;
            }
        }
        output.WriteLine($"worst relative beta difference over {points} (case, time) points: {worst:G3}");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(2.5)]
    [InlineData(-2.5)]
    public void Exact_matches_numerical_flow_for_fixed_lambda_including_zero(double lambda)
    {
        for (int seed = 500; seed < 520; seed++)
        {
            var cs = Cases.TwoLayer(seed, lambdaFixed: lambda);
            var exact = new TwoLayerLinearExact(cs.Sigma, cs.W1, cs.W2, cs.Eta1, cs.Eta2);
            var (fast, slow) = Rates(cs);
            var times = SingleNeuronTests.TimesFor(fast, slow);
            var numeric = new TwoLayerLinearNumeric(cs.Sigma, cs.W1, cs.W2, cs.Eta1, cs.Eta2)
                { Integrator = SingleNeuronTests.TightIntegrator }.Solve(times);
            for (int i = 0; i < times.Length; i++) AssertAgree(exact.At(times[i]), numeric[i], cs.ToString());
        }
    }

    [Fact]
    public void Exact_solution_conserves_Delta_to_1e_12()
    {
        double worst = 0;
        for (int seed = 1000; seed < 1100; seed++)
        {
            var cs = Cases.TwoLayer(seed);
            var exact = new TwoLayerLinearExact(cs.Sigma, cs.W1, cs.W2, cs.Eta1, cs.Eta2);
            var (fast, slow) = Rates(cs);
            foreach (double t in SingleNeuronTests.TimesFor(fast, slow).Concat([1e3, 1e6, 1e9]))
            {
                var y = exact.At(t).Factor;
                int d = cs.Sigma.Cols, c = cs.Sigma.Rows, h = cs.W1.Rows;
                var top = y.Block(0, 0, d, h);      // W₁ᵀR
                var bottom = y.Block(d, 0, c, h);   // W₂R
                var g2 = bottom.TransposeTimes();   // RᵀW₂ᵀW₂R
                var g1 = top.TransposeTimes();      // RᵀW₁W₁ᵀR
                var delta = cs.Eta1 * g2 - cs.Eta2 * g1;
                double scale = cs.Eta1 * g2.FrobeniusNorm() + cs.Eta2 * g1.FrobeniusNorm();
                double drift = (delta - cs.Lambda * Matrix.Identity(h)).FrobeniusNorm() / scale;
                worst = Math.Max(worst, drift);
                Assert.True(drift <= 1e-12, $"Delta drift {drift:G3} at t={t:G6}; {cs}");
            }
        }
        output.WriteLine($"worst relative Delta drift: {worst:G3}");
    }

    [Fact]
    public void Converges_at_t_1e9_to_the_best_rank_h_approximation()
    {
        double worst = 0;
        string worstCase = "";
        for (int seed = 2000; seed < 2100; seed++)
        {
            var cs = Cases.TwoLayer(seed);
            var beta = new TwoLayerLinearExact(cs.Sigma, cs.W1, cs.W2, cs.Eta1, cs.Eta2).At(1e9).Beta;
            var best = BestRankApproximation(cs.Sigma, cs.W1.Rows);
            double err = (beta - best).FrobeniusNorm() / cs.Sigma.FrobeniusNorm();
            if (err > worst) (worst, worstCase) = (err, cs.ToString());
            Assert.True(err <= 1e-10, $"|beta(1e9) - best rank-h| / |Sigma| = {err:G3}; {cs}");
        }
        output.WriteLine($"worst relative distance to the Eckart-Young solution at t = 1e9: {worst:G3} ({worstCase})");
    }

    /// <summary>
    /// Eckart-Young: top-h singular triples of Σ, from the eigenvectors (v; ±u)/√2 of [[0, Σᵀ],[Σ, 0]].
    /// </summary>
    private static Matrix BestRankApproximation(Matrix sigma, int h)
    {
        int c = sigma.Rows, d = sigma.Cols;
        var aug = new Matrix(d + c, d + c);
        aug.SetBlock(d, 0, sigma);
        aug.SetBlock(0, d, sigma.Transpose());
        var eig = new SymmetricEigen(aug);
        var best = new Matrix(c, d);
        for (int k = 0; k < Math.Min(h, Math.Min(c, d)); k++)
        {
            double s = eig.Values[k];
            if (s <= 0) break;
            for (int i = 0; i < c; i++)
                for (int j = 0; j < d; j++)
                    best[i, j] += 2 * s * eig.Vectors[d + i, k] * eig.Vectors[j, k];
        }
        return best;
    }

    [Fact]
    public void Kernel_distance_matches_brute_force_ntk_from_per_example_gradients()
    {
        for (int seed = 3000; seed < 3030; seed++)
        {
            var cs = Cases.TwoLayer(seed, dFixed: 4, cFixed: 3);
            int d = 4, n = 7;
            var x = SingleNeuronTests.WhitenedDesign(new Random(seed), n, d);
            var exact = new TwoLayerLinearExact(cs.Sigma, cs.W1, cs.W2, cs.Eta1, cs.Eta2);
            var numeric = new TwoLayerLinearNumeric(cs.Sigma, cs.W1, cs.W2, cs.Eta1, cs.Eta2)
                { Integrator = SingleNeuronTests.TightIntegrator };
            var (fast, slow) = Rates(cs);
            var times = SingleNeuronTests.TimesFor(fast, slow);
            var states = numeric.Solve(times);
            // Weights themselves come from the numerical flow (the exact solution knows them only up
            // to a rotation, which the NTK does not see).
            var k0 = BruteForceNtk(x, cs.W1, cs.W2, cs.Eta1, cs.Eta2);
            for (int i = 0; i < times.Length; i++)
            {
                var f = states[i].Factor;
                var w1 = f.Block(0, 0, d, cs.W1.Rows).Transpose();
                var w2 = f.Block(d, 0, cs.Sigma.Rows, cs.W1.Rows);
                double brute = KernelDistance.Dense(k0, BruteForceNtk(x, w1, w2, cs.Eta1, cs.Eta2));
                double formula = exact.At(times[i]).KernelDistance;
                Assert.True(Math.Abs(brute - formula) <= 1e-8 * brute + 1e-14,
                    $"kernel distance {formula:R} vs brute force {brute:R} at t={times[i]:G6}; {cs}");
            }
        }
    }

    /// <summary>
    /// The (n·c)×(n·c) empirical NTK Θ[(i,a),(j,b)] = Σ_p η_p ∂f_a(x_i)/∂θ_p · ∂f_b(x_j)/∂θ_p from the
    /// explicit per-example Jacobian of f(x) = W₂W₁x.
    /// </summary>
    private static Matrix BruteForceNtk(Matrix x, Matrix w1, Matrix w2, double eta1, double eta2)
    {
        int n = x.Rows, d = x.Cols, h = w1.Rows, c = w2.Rows;
        int p = h * d + c * h;
        var jac = new Matrix(n * c, p);
        for (int i = 0; i < n; i++)
        {
            var hidden = new double[h];
            for (int j = 0; j < h; j++)
                for (int k = 0; k < d; k++) hidden[j] += w1[j, k] * x[i, k];
            for (int a = 0; a < c; a++)
            {
                int row = i * c + a;
                // ∂f_a/∂W₁[j,k] = W₂[a,j]·x_k
                for (int j = 0; j < h; j++)
                    for (int k = 0; k < d; k++) jac[row, j * d + k] = w2[a, j] * x[i, k] * Math.Sqrt(eta1);
                // ∂f_a/∂W₂[b,j] = δ_ab·(W₁x)_j
                for (int j = 0; j < h; j++) jac[row, h * d + a * h + j] = hidden[j] * Math.Sqrt(eta2);
            }
        }
        return jac.TimesTranspose();
    }

    [Fact]
    public void With_one_hidden_unit_and_one_output_it_equals_the_single_neuron()
    {
        for (int seed = 4000; seed < 4060; seed++)
        {
            var cs = Cases.SingleNeuron(seed);
            int d = cs.BetaStar.Length;
            var two = new TwoLayerLinearExact(new Matrix(1, d, cs.BetaStar), new Matrix(1, d, cs.W0),
                new Matrix(1, 1, [cs.A0]), cs.EtaW, cs.EtaA);
            var one = new SingleNeuronExact(cs.BetaStar, cs.A0, cs.W0, cs.EtaA, cs.EtaW);
            foreach (double t in new[] { 0, 1e-3, 0.1, 1, 10, 100, 1e4, 1e9 })
            {
                var a = two.At(t);
                var b = one.At(t);
                double scale = b.A * b.A + b.W.Sum(v => v * v);
                Assert.True(Cases.RelDiff(a.Beta.Data, b.Beta, 1) <= 1e-12 * scale, $"beta at t={t}; {cs}");
                Assert.True(Math.Abs(a.W2W2t[0, 0] - b.A * b.A) <= 1e-12 * scale, $"a^2 at t={t}; {cs}");
                Assert.True(Math.Abs(a.KernelDistance - b.KernelDistance) <= 1e-10 * b.KernelDistance + 1e-15,
                    $"S at t={t}: {a.KernelDistance:R} vs {b.KernelDistance:R}; {cs}");
            }
        }
    }

    [Fact]
    public void Loss_never_increases_and_outputs_stay_finite_from_t0_to_1e9()
    {
        for (int seed = 5000; seed < 5040; seed++)
        {
            var cs = Cases.TwoLayer(seed);
            var exact = new TwoLayerLinearExact(cs.Sigma, cs.W1, cs.W2, cs.Eta1, cs.Eta2);
            double prev = double.PositiveInfinity;
            foreach (double t in Enumerable.Range(0, 131).Select(i => Math.Pow(10, -4 + i * 0.1)))
            {
                var s = exact.At(t);
                Assert.True(s.Beta.AllFinite() && double.IsFinite(s.KernelDistance),
                    $"non-finite output at t={t:G6}; {cs}");
                Assert.True(s.Loss <= prev * (1 + 1e-12) + 1e-28,
                    $"loss rose from {prev:R} to {s.Loss:R} at t={t:G6}; {cs}");
                prev = s.Loss;
            }
        }
    }

    [Fact]
    public void Unbalanced_init_is_refused_with_the_measured_imbalance()
    {
        var sigma = new Matrix(2, 2, [1, 0, 0, 0.5]);
        var w1 = new Matrix(1, 2, [0.3, 0.1]);
        var w2 = new Matrix(2, 1, [0.2, -0.4]);
        var balance = Balance.Of(w1, w2, 1, 1);
        // h = 1: Δ is 1×1, so every h = 1 init is λ-balanced (λ = ‖w₂‖² − ‖w₁‖²).
        Assert.Equal(0.2 * 0.2 + 0.4 * 0.4 - 0.3 * 0.3 - 0.1 * 0.1, balance.Lambda, 15);
        Assert.Equal(0.0, balance.RelativeImbalance);

        var w1b = new Matrix(2, 2, [0.3, 0.1, 0.0, 0.2]);
        var w2b = new Matrix(2, 2, [0.2, -0.4, 0.1, 0.0]);
        var ex = Assert.Throws<NotBalancedException>(() => new TwoLayerLinearExact(sigma, w1b, w2b));
        Assert.True(ex.Balance.RelativeImbalance > 0.1);
        Assert.Contains("not lambda-balanced", ex.Message);
    }

    [Fact]
    public void Zero_init_stays_at_the_saddle()
    {
        var cs = Cases.TwoLayer(42, dFixed: 3, cFixed: 2, hFixed: 2, lambdaFixed: 0);
        var zero1 = new Matrix(2, 3);
        var zero2 = new Matrix(2, 2);
        var exact = new TwoLayerLinearExact(cs.Sigma, zero1, zero2);
        foreach (double t in new[] { 0, 1, 1e9 })
        {
            var s = exact.At(t);
            Assert.Equal(0.0, s.Beta.FrobeniusNorm());
            Assert.Equal(0.0, s.KernelDistance);
        }
    }

    [Theory]
    [InlineData(3, 2, 2, 0.7, 0.5)]
    [InlineData(4, 3, 5, 0.1, 2.0)]
    [InlineData(2, 2, 2, 1.5, 1.0)]
    public void Balanced_init_from_tau_and_alpha_has_lambda_equal_to_delta(int d, int h, int c, double tau,
        double alpha)
    {
        var r = new Random(d * 100 + h * 10 + c);
        var (w1, w2) = Initialisation.BalancedTwoLayer(d, h, c, tau, alpha, () => Cases.Gaussian(r));
        double delta = Initialisation.Delta(tau, alpha);
        var imbalance = w2.TransposeTimes() - w1.TimesTranspose() - delta * Matrix.Identity(h);
        Assert.True(imbalance.FrobeniusNorm() <= 1e-13 * (1 + Math.Abs(delta)), $"{imbalance.FrobeniusNorm():E2}");
        Assert.Equal(delta, Balance.Of(w1, w2, 1, 1).Lambda, 12);
        for (int k = 0; k < h; k++)   // every unit: ‖w_k‖ = τα, ‖a_k‖ = τ/α
        {
            Assert.Equal(tau * alpha, Matrix.Norm2(w1.Block(k, 0, 1, d).Data), 12);
            Assert.Equal(tau / alpha, Matrix.Norm2(w2.Block(0, k, c, 1).Data), 12);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            Initialisation.BalancedTwoLayer(d, Math.Min(c, d) + 1, c, tau, alpha, () => Cases.Gaussian(r)));
    }
}
