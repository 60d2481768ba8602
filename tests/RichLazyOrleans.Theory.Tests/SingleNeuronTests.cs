using RichLazyOrleans.Theory;
using Xunit.Abstractions;

namespace RichLazyOrleans.Theory.Tests;

/// <summary>
/// The exact single-neuron solution against independent truths: the numerical gradient flow
/// (Dormand-Prince, rtol 1e-12, integrated in the raw weights), the conservation law, a
/// brute-force NTK from per-example gradients, and a hand-derived logistic solution.
/// </summary>
public class SingleNeuronTests(ITestOutputHelper output)
{
    // Agreement demanded between exact and numerical flow: normwise relative 1e-8 (the issue's bar).
    // Measured worst cases are ~1e-12, so this has four orders of margin and still fails on any
    // real error (a wrong sign, rate or eigenvector shows up at O(1)).
    private const double Agreement = 1e-8;
    // Kernel distances below this are round-off of normalised kernels (d = 1 has S ≡ 0 exactly).
    private const double KernelFloor = 1e-15;

    internal static DormandPrince45 TightIntegrator => new() { RelativeTolerance = 1e-12, AbsoluteTolerance = 1e-20 };

    /// <summary>Times from 0 through the transient to convergence, in units of the growth rate.</summary>
    internal static double[] TimesFor(double growthRate, double slowRate)
    {
        double fast = 1 / growthRate, slow = 1 / Math.Max(slowRate, 1e-3 * growthRate);
        return [0, 1e-6 * fast, 0.01 * fast, 0.3 * fast, fast, 3 * fast, 10 * fast, 30 * fast, 3 * slow, 10 * slow,
            30 * slow];
    }

    private static double[] TimesFor(Cases.SingleNeuronCase cs)
    {
        double rate = cs.EtaA * cs.EtaW;
        double s = Matrix.Norm2(cs.BetaStar) / Math.Sqrt(rate);
        double deltaT = cs.A0 * cs.A0 / cs.EtaA - cs.W0.Sum(v => v * v) / cs.EtaW;
        double dd = double.Hypot(deltaT, 2 * s);
        // Slowest relaxation: the mode along w0 ⟂ β* decays relative to the growing one at (D + δ̃)/2.
        return TimesFor(rate * Math.Max(dd / 2, 1e-3), rate * Math.Max((dd + deltaT) / 2, 1e-9));
    }

    internal static void AssertAgree(SingleNeuronState e, SingleNeuronState n, string context)
    {
        double q2 = e.A * e.A + e.W.Sum(v => v * v), q = Math.Sqrt(q2);
        Assert.True(Math.Abs(e.A - n.A) <= Agreement * q, $"a: {e.A:R} vs {n.A:R} at t={e.T:G6}; {context}");
        Assert.True(Cases.RelDiff(e.W, n.W, q) <= Agreement, $"w differs at t={e.T:G6}; {context}");
        // β = a·w can decay far below |a|·‖w‖'s scale (β* = 0); the reference then knows it only to
        // its own accuracy, ~rtol·‖q‖² (rtol = 1e-12), hence the 1e-11·‖q‖² floor.
        double betaTol = Agreement * Matrix.Norm2(e.Beta) + 1e-11 * q2;
        double betaErr = Cases.RelDiff(e.Beta, n.Beta, 1);
        Assert.True(betaErr <= betaTol, $"beta differs by {betaErr:G3} > {betaTol:G3} at t={e.T:G6}; {context}");
        Assert.True(Math.Abs(e.KernelDistance - n.KernelDistance) <= Agreement * e.KernelDistance + KernelFloor,
            $"kernel distance {e.KernelDistance:R} vs {n.KernelDistance:R} at t={e.T:G6}; {context}");
        // L = ½‖β − β*‖², so |√(2L_e) − √(2L_n)| ≤ ‖β_e − β_n‖ (triangle inequality): the loss is checked
        // as the residual norm, to 1e-8 relative plus what β's tolerance allows.
        double re = Math.Sqrt(2 * e.Loss), rn = Math.Sqrt(2 * n.Loss);
        Assert.True(Math.Abs(re - rn) <= Agreement * re + betaTol,
            $"loss {e.Loss:R} vs {n.Loss:R} at t={e.T:G6}; {context}");
    }

    [Fact]
    public void Exact_matches_numerical_gradient_flow_on_random_cases()
    {
        double worst = 0;
        for (int seed = 1; seed <= 150; seed++)
        {
            var cs = Cases.SingleNeuron(seed);
            var exact = new SingleNeuronExact(cs.BetaStar, cs.A0, cs.W0, cs.EtaA, cs.EtaW);
            var times = TimesFor(cs);
            var numeric = new SingleNeuronNumeric(cs.BetaStar, cs.A0, cs.W0, cs.EtaA, cs.EtaW)
                { Integrator = TightIntegrator }.Solve(times);
            for (int i = 0; i < times.Length; i++)
            {
                var e = exact.At(times[i]);
                AssertAgree(e, numeric[i], cs.ToString());
                double q = Math.Sqrt(e.A * e.A + e.W.Sum(v => v * v));
                worst = Math.Max(worst,
                    Math.Max(Math.Abs(e.A - numeric[i].A), Cases.RelDiff(e.W, numeric[i].W, 1)) / q);
            }
        }
        output.WriteLine($"worst relative state difference over 150 cases x 11 times: {worst:G3}");
    }

    [Fact]
    public void Exact_solution_conserves_delta_to_1e_12_at_all_times()
    {
        double worst = 0;
        for (int seed = 1000; seed < 1200; seed++)
        {
            var cs = Cases.SingleNeuron(seed);
            var exact = new SingleNeuronExact(cs.BetaStar, cs.A0, cs.W0, cs.EtaA, cs.EtaW);
            foreach (double t in TimesFor(cs).Concat([1e3, 1e6, 1e9]))
            {
                var s = exact.At(t);
                // δ is a difference of two squares; its natural scale is their sum.
                double scale = Math.Max(cs.EtaW * s.A * s.A + cs.EtaA * s.W.Sum(v => v * v),
                    cs.EtaW * cs.A0 * cs.A0 + cs.EtaA * cs.W0.Sum(v => v * v));
                double drift = Math.Abs(s.Delta - exact.Delta) / scale;
                worst = Math.Max(worst, drift);
                Assert.True(drift <= 1e-12, $"delta drift {drift:G3} at t={t:G6}; {cs}");
            }
        }
        output.WriteLine($"worst relative delta drift: {worst:G3}");
    }

    [Fact]
    public void Kernel_distance_matches_brute_force_ntk_from_per_example_gradients()
    {
        for (int seed = 2000; seed < 2040; seed++)
        {
            var cs = Cases.SingleNeuron(seed);
            int d = cs.BetaStar.Length, n = d + 5;
            var x = WhitenedDesign(new Random(seed), n, d);
            var exact = new SingleNeuronExact(cs.BetaStar, cs.A0, cs.W0, cs.EtaA, cs.EtaW);
            var k0 = BruteForceNtk(x, cs.A0, cs.W0, cs.EtaA, cs.EtaW);
            foreach (double t in TimesFor(cs))
            {
                var s = exact.At(t);
                double brute = KernelDistance.Dense(k0, BruteForceNtk(x, s.A, s.W, cs.EtaA, cs.EtaW));
                Assert.True(Math.Abs(brute - s.KernelDistance) <= 1e-9 * brute + 1e-14,
                    $"kernel distance {s.KernelDistance:R} vs brute force {brute:R} at t={t:G6}; {cs}");
            }
        }
    }

    /// <summary>X (n×d) with XᵀX = nI: orthonormal columns scaled by √n.</summary>
    internal static Matrix WhitenedDesign(Random r, int n, int d) => Math.Sqrt(n) * Cases.Orthonormal(r, n, d);

    /// <summary>K_ij = Σ_p η_p ∂f(x_i)/∂θ_p ∂f(x_j)/∂θ_p for f(x) = a wᵀx, from the explicit Jacobian.</summary>
    private static Matrix BruteForceNtk(Matrix x, double a, double[] w, double etaA, double etaW)
    {
        int n = x.Rows, d = x.Cols;
        var jac = new Matrix(n, d + 1);
        for (int i = 0; i < n; i++)
        {
            double wx = 0;
            for (int k = 0; k < d; k++) wx += w[k] * x[i, k];
            jac[i, 0] = wx * Math.Sqrt(etaA);                                        // ∂f/∂a
            for (int k = 0; k < d; k++) jac[i, 1 + k] = a * x[i, k] * Math.Sqrt(etaW); // ∂f/∂w_k
        }
        return jac.TimesTranspose();
    }

    [Fact]
    public void Balanced_delta_zero_follows_the_hand_derived_logistic_curve()
    {
        // d = 1, a₀ = w₀ > 0, η = 1: a = w for all t, so β = a² obeys β̇ = 2β(β* − β), solved by
        // β(t) = β*/(1 + (β*/β₀ − 1)e^{−2β*t}).
        double betaStar = 1.7, a0 = 0.01;
        var exact = new SingleNeuronExact([betaStar], a0, [a0]);
        Assert.Equal(0.0, exact.Delta);
        foreach (double t in new[] { 0, 0.1, 1, 2.5, 5, 10, 40, 1e9 })
        {
            double beta0 = a0 * a0;
            double expected = betaStar / (1 + (betaStar / beta0 - 1) * Math.Exp(-2 * betaStar * t));
            var s = exact.At(t);
            Assert.True(Math.Abs(s.Beta[0] - expected) <= 1e-13 * expected, $"t={t}: {s.Beta[0]:R} vs {expected:R}");
            Assert.True(Math.Abs(s.A - s.W[0]) <= 1e-14 * s.A, "a = w must hold for all t when delta = 0");
        }
    }

    [Fact]
    public void Delta_zero_exactly_in_many_dimensions_matches_numerical_flow()
    {
        var r = new Random(7);
        var beta = Cases.GaussianVector(r, 6);
        var dir = Cases.GaussianVector(r, 6);
        double tau = 0.05;
        Assert.Equal(1.0, Initialisation.Alpha(tau, 0.0));
        var w0 = Cases.Scale(dir, tau / Matrix.Norm2(dir));
        var exact = new SingleNeuronExact(beta, tau, w0);
        Assert.True(Math.Abs(exact.Delta) < 1e-18);
        var times = TimesFor(1.0, 0.5);
        var num = new SingleNeuronNumeric(beta, tau, w0) { Integrator = TightIntegrator }.Solve(times);
        for (int i = 0; i < times.Length; i++) AssertAgree(exact.At(times[i]), num[i], "delta = 0");
    }

    [Fact]
    public void Downstream_init_where_a_crosses_zero_matches_numerical_flow_through_the_crossing()
    {
        // δ < 0 with w₀ pointing against β*: a must change sign to align β with β*. The Riccati
        // solution for ν = wᵀβ*/a has a pole exactly there; the matrix form must not.
        double[] beta = [1.0, 0.5, -0.25];
        double[] w0 = [-1.2, -0.5, 0.3];   // against β*
        double a0 = 0.3;                    // δ = 0.09 − 1.78 < 0
        var exact = new SingleNeuronExact(beta, a0, w0);
        Assert.True(exact.Delta < 0);
        var times = Enumerable.Range(0, 401).Select(i => i * 0.025).ToArray();
        var num = new SingleNeuronNumeric(beta, a0, w0) { Integrator = TightIntegrator }.Solve(times);
        bool crossed = false;
        for (int i = 0; i < times.Length; i++)
        {
            var e = exact.At(times[i]);
            AssertAgree(e, num[i], "crossing");
            if (e.A < 0) crossed = true;
        }
        Assert.True(crossed, "a should cross zero for this downstream init");
        var end = exact.At(1e9);
        Assert.True(Cases.RelDiff(end.Beta, beta, Matrix.Norm2(beta)) < 1e-12);
    }

    [Fact]
    public void Zero_target_decays_like_the_numerical_flow()
    {
        double[] beta = [0.0, 0.0, 0.0];
        foreach (double a0 in new[] { 0.8, 0.1, -0.5 })
        {
            double[] w0 = [0.3, -0.4, 0.2];
            var exact = new SingleNeuronExact(beta, a0, w0);
            var times = TimesFor(1.0, 0.1);
            var num = new SingleNeuronNumeric(beta, a0, w0) { Integrator = TightIntegrator }.Solve(times);
            for (int i = 0; i < times.Length; i++) AssertAgree(exact.At(times[i]), num[i], $"beta* = 0, a0 = {a0}");
            var end = exact.At(1e9);
            Assert.True(Matrix.Norm2(end.Beta) < 1e-12, "beta must decay to 0");
            Assert.True(Math.Abs(end.Delta - exact.Delta) <= 1e-14 * Math.Abs(exact.Delta) + 1e-16);
        }
    }

    [Fact]
    public void Init_orthogonal_to_target_matches_numerical_flow_and_converges()
    {
        double[] beta = [2.0, 0, 0, 0];
        double[] w0 = [0, 0.3, -0.1, 0.05];   // w₀ ⟂ β*
        foreach (double a0 in new[] { 0.5, 0.01, -2.0 })
        {
            var exact = new SingleNeuronExact(beta, a0, w0);
            var times = TimesFor(1.0, 0.05);
            var num = new SingleNeuronNumeric(beta, a0, w0) { Integrator = TightIntegrator }.Solve(times);
            for (int i = 0; i < times.Length; i++) AssertAgree(exact.At(times[i]), num[i], $"w0 orthogonal, a0 = {a0}");
            var end = exact.At(1e9);
            Assert.True(Cases.RelDiff(end.Beta, beta, 2.0) < 1e-12, $"converged beta {string.Join(",", end.Beta)}");
        }
    }

    [Fact]
    public void Converges_to_beta_star_at_t_1e9_for_random_cases()
    {
        double worst = 0;
        for (int seed = 3000; seed < 3200; seed++)
        {
            var cs = Cases.SingleNeuron(seed);
            var s = new SingleNeuronExact(cs.BetaStar, cs.A0, cs.W0, cs.EtaA, cs.EtaW).At(1e9);
            double err = Cases.RelDiff(s.Beta, cs.BetaStar, Matrix.Norm2(cs.BetaStar));
            worst = Math.Max(worst, err);
            Assert.True(err < 1e-12, $"|beta(1e9) - beta*|/|beta*| = {err:G3}; {cs}");
            Assert.True(s.Loss <= 1e-24 * Matrix.Norm2(cs.BetaStar) * Matrix.Norm2(cs.BetaStar));
        }
        output.WriteLine($"worst relative |beta(1e9) - beta*|: {worst:G3}");
    }

    [Fact]
    public void Loss_never_increases_along_the_exact_flow()
    {
        // Gradient flow is a descent: L(t) is non-increasing (a Lyapunov law, independent of any formula).
        for (int seed = 4000; seed < 4050; seed++)
        {
            var cs = Cases.SingleNeuron(seed);
            var exact = new SingleNeuronExact(cs.BetaStar, cs.A0, cs.W0, cs.EtaA, cs.EtaW);
            double prev = double.PositiveInfinity;
            foreach (double t in Enumerable.Range(0, 200).Select(i => Math.Pow(10, -4 + i * 0.07)))
            {
                double loss = exact.At(t).Loss;
                Assert.True(loss <= prev * (1 + 1e-12) + 1e-30,
                    $"loss rose from {prev:R} to {loss:R} at t={t:G6}; {cs}");
                prev = loss;
            }
        }
    }

    [Fact]
    public void Kernel_distance_is_zero_at_t0_small_when_lazy_and_hand_derived_when_balanced()
    {
        double[] beta = [1.0, 0, 0];
        double[] dir = [0.6, 0.8, 0];
        double KernelDistanceAtConvergence(double tau, double delta)
        {
            double alpha = Initialisation.Alpha(tau, delta);
            var exact = new SingleNeuronExact(beta, tau / alpha, Cases.Scale(dir, tau * alpha));
            Assert.Equal(0.0, exact.At(0).KernelDistance);
            return exact.At(1e9).KernelDistance;
        }
        double lazy = KernelDistanceAtConvergence(1.0, 50), rich = KernelDistanceAtConvergence(0.01, 0),
            downstream = KernelDistanceAtConvergence(0.01, -0.1);
        output.WriteLine($"S(inf): lazy (tau 1, delta 50) {lazy:G4}; balanced (tau 0.01, delta 0) {rich:G4}; " +
            $"downstream (tau 0.01, delta -0.1) {downstream:G4}");
        Assert.True(lazy < 1e-3, $"lazy {lazy}");
        // δ = 0 keeps M = ‖β‖(I + β̂β̂ᵀ) at all times, so only the direction moves:
        // S = 1 − (d + 2 + c²)/(d + 3) with c = ŵ₀·β̂* (hand-derived, d = 3, c = 0.6).
        double expected = 1 - (3 + 2 + 0.36) / 6;
        Assert.True(Math.Abs(rich - expected) <= 1e-12, $"balanced {rich:R} vs {expected:R}");
        Assert.True(downstream > rich,
            $"downstream {downstream} should move the kernel more than balanced {rich} here");
    }
}
