using RichLazyOrleans.Theory;

namespace RichLazyOrleans.Theory.Tests;

/// <summary>The numerical building blocks, each against a closed form.</summary>
public class NumericsTests
{
    [Theory]
    [InlineData(1e-300)]
    [InlineData(-1e-20)]
    [InlineData(1e-9)]
    [InlineData(-3e-6)]
    [InlineData(0.01)]
    [InlineData(-0.3)]
    [InlineData(0.49)]
    [InlineData(0.7)]
    [InlineData(-5)]
    [InlineData(30)]
    public void ExpM1_is_accurate_to_a_few_ulps(double x)
    {
        // Reference: Taylor series summed to convergence for |x| < 1, exp(x) − 1 otherwise (no cancellation there).
        double expected;
        if (Math.Abs(x) < 1)
        {
            double term = x, sum = 0;
            for (int k = 1; k < 40 && term != 0; k++) { sum += term; term *= x / (k + 1); }
            expected = sum;
        }
        else expected = Math.Exp(x) - 1;
        double got = RiccatiModes.ExpM1(x);
        Assert.True(Math.Abs(got - expected) <= 1e-15 * Math.Abs(expected),
            $"expm1({x:R}) = {got:R}, expected {expected:R}");
    }

    [Fact]
    public void Evaluate_matches_the_direct_formulas_where_they_do_not_overflow()
    {
        foreach (double mu in new[] { -3.0, -1e-7, 0.0, 1e-7, 0.5, 4.0 })
            foreach (double t in new[] { 1e-6, 0.1, 1.0, 10.0 })
            {
                RiccatiModes.Evaluate(mu, Math.Log(2 * Math.Abs(mu)), t, out double logG, out double f2);
                double g = mu == 0 ? t : (Math.Exp(2 * mu * t) - 1) / (2 * mu);
                // The direct g cancels for small μt; compare there against its series t(1 + μt + …).
                if (Math.Abs(mu * t) < 1e-3) g = t * (1 + mu * t + 2 * mu * mu * t * t / 3);
                Assert.True(Math.Abs(logG - Math.Log(g)) <= 1e-13 * Math.Max(1, Math.Abs(Math.Log(g))),
                    $"log g(mu={mu}, t={t})");
                Assert.True(Math.Abs(f2 - Math.Exp(2 * mu * t) / g) <= 1e-12 * f2, $"f^2(mu={mu}, t={t})");
            }
        // Far beyond overflow: f² tends to 2μ for μ > 0 and to 0 for μ < 0; log g grows like 2μt.
        RiccatiModes.Evaluate(2.0, Math.Log(4.0), 1e9, out double lg, out double ff);
        Assert.Equal(4.0, ff);
        Assert.Equal(4e9 - Math.Log(4.0), lg, 6);
        RiccatiModes.Evaluate(-2.0, Math.Log(4.0), 1e9, out lg, out ff);
        Assert.Equal(0.0, ff);
        Assert.Equal(-Math.Log(4.0), lg, 15);
    }

    [Fact]
    public void Graded_column_space_equals_the_direct_one_at_moderate_scales_and_survives_huge_ones()
    {
        var r = new Random(5);
        int rows = 12, h = 4;
        for (int trial = 0; trial < 20; trial++)
        {
            var content = Cases.GaussianMatrix(r, rows, h);
            var logScale = Enumerable.Range(0, rows).Select(_ => Cases.Uniform(r, -20, 20)).ToArray();
            var direct = new Matrix(rows, h);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < h; j++) direct[i, j] = Math.Exp(logScale[i]) * content[i, j];
            var graded = TwoLayerLinearExact.GradedColumnSpace(logScale, content.Clone());
            Assert.True(graded.Data.All(v => Math.Abs(v) <= 1 + 1e-12), "entries must be bounded by 1");
            // Same column space: the projectors agree.
            var p1 = Projector(TwoLayerLinearExact.OrthonormalColumns(direct));
            var p2 = Projector(TwoLayerLinearExact.OrthonormalColumns(graded));
            Assert.True((p1 - p2).FrobeniusNorm() < 1e-9, $"projectors differ by {(p1 - p2).FrobeniusNorm():G3}");

            // Scales of e^{±1e6}: no overflow, still bounded, still full rank.
            var huge = logScale.Select(s => s * 5e4).ToArray();
            var g2 = TwoLayerLinearExact.GradedColumnSpace(huge, content.Clone());
            Assert.True(g2.Data.All(v => double.IsFinite(v) && Math.Abs(v) <= 1 + 1e-12));
            var q = TwoLayerLinearExact.OrthonormalColumns(g2);
            var gram = q.TransposeTimes() - Matrix.Identity(h);
            Assert.True(gram.FrobeniusNorm() < 1e-14);
        }
    }

    private static Matrix Projector(Matrix q) => q * q.Transpose();

    [Fact]
    public void Symmetric_eigen_reconstructs_the_matrix_with_orthonormal_vectors()
    {
        var r = new Random(9);
        foreach (int n in new[] { 1, 2, 7, 30 })
        {
            var b = Cases.GaussianMatrix(r, n, n);
            var a = b + b.Transpose();
            var eig = new SymmetricEigen(a);
            var rebuilt = eig.Apply(x => x);
            Assert.True((rebuilt - a).FrobeniusNorm() <= 1e-14 * n * a.FrobeniusNorm());
            Assert.True((eig.Vectors.TransposeTimes() - Matrix.Identity(n)).FrobeniusNorm() <= 1e-14 * n);
            for (int i = 1; i < n; i++) Assert.True(eig.Values[i - 1] >= eig.Values[i]);
            Assert.Equal(a.Trace(), eig.Values.Sum(), 12);
        }
    }

    [Fact]
    public void Dormand_prince_integrates_known_solutions_to_tolerance()
    {
        // ẏ = −y + sin t has y(t) = (y0 + ½)e^{−t} + ½(sin t − cos t).
        var dp = new DormandPrince45 { RelativeTolerance = 1e-12, AbsoluteTolerance = 1e-14, SteadyStateRatio = 0 };
        double[] times = [0.5, 3, 10, 2];
        var (ys, stats) = dp.Solve((t, y, dy) => dy[0] = -y[0] + Math.Sin(t), 0, [2.0], times);
        for (int i = 0; i < times.Length; i++)
        {
            double t = times[i], exact = 2.5 * Math.Exp(-t) + 0.5 * (Math.Sin(t) - Math.Cos(t));
            Assert.True(Math.Abs(ys[i][0] - exact) <= 1e-10 * Math.Max(1, Math.Abs(exact)),
                $"t={t}: {ys[i][0]:R} vs {exact:R}");
        }
        Assert.True(stats.Steps > 10);

        // Harmonic oscillator over 20 periods keeps its energy to the tolerance.
        var (osc, _) = dp.Solve((_, y, dy) => { dy[0] = y[1]; dy[1] = -y[0]; }, 0, [1.0, 0.0], [40 * Math.PI]);
        Assert.True(Math.Abs(osc[0][0] - 1) < 1e-9 && Math.Abs(osc[0][1]) < 1e-9);
    }

    [Fact]
    public void Dormand_prince_holds_a_fixed_point_and_reports_a_step_limit()
    {
        // ẏ = −y converges; with steady-state detection t = 1e9 is answered without 1e9 steps.
        var dp = new DormandPrince45 { RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-300 };
        var (ys, stats) = dp.Solve((_, y, dy) => dy[0] = -y[0], 0, [1.0], [1e9]);
        Assert.True(Math.Abs(ys[0][0]) < 1e-12);
        Assert.True(stats.Steps < 100_000, $"{stats.Steps} steps");
        Assert.True(double.IsFinite(stats.SteadyStateFrom));

        var limited = new DormandPrince45 { MaxSteps = 50, SteadyStateRatio = 0 };
        Assert.Throws<StepLimitException>(() => limited.Solve((t, y, dy) => dy[0] = Math.Cos(t), 0, [0.0], [1e6]));
    }
}
