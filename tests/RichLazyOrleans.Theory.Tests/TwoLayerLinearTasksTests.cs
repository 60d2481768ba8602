using RichLazyOrleans.Theory;
using Xunit.Abstractions;

namespace RichLazyOrleans.Theory.Tests;

/// <summary>
/// Task sequences: the exact solution continued across switches against the numerical flow restarted by hand at
/// every switch, Δ = λI conserved across switches, and the scalar λ = 0 case, whose flow β̇ = 2β(s − β) is logistic
/// in closed form in every stage.
/// </summary>
public class TwoLayerLinearTasksTests(ITestOutputHelper output)
{
    private static readonly DormandPrince45 Tight = new() { RelativeTolerance = 1e-12, AbsoluteTolerance = 1e-18 };

    /// <summary>A random Σ_yx (c×d) of Frobenius norm in [0.5, 3].</summary>
    private static Matrix Target(Random r, int c, int d)
    {
        var s = Cases.GaussianMatrix(r, c, d);
        return (Cases.Uniform(r, 0.5, 3) / s.FrobeniusNorm()) * s;
    }

    /// <summary>The independent reference: TwoLayerLinearNumeric per stage, each started by hand from the weights
    /// the one before ended with, at global times.</summary>
    private static TwoLayerLinearState[] Restarted(Matrix[] sigmas, double[] durations, Matrix w1, Matrix w2,
        double eta1, double eta2, double[] times)
    {
        var result = new TwoLayerLinearState[times.Length];
        double start = 0;
        for (int k = 0; k < sigmas.Length; k++)
        {
            double end = start + durations[k];
            var idx = Enumerable.Range(0, times.Length)
                .Where(i => times[i] <= end && (times[i] > start || k == 0)).ToArray();
            var local = idx.Select(i => times[i] - start).Append(durations[k]).ToArray();
            var states = new TwoLayerLinearNumeric(sigmas[k], w1, w2, eta1, eta2) { Integrator = Tight }.Solve(local);
            for (int j = 0; j < idx.Length; j++) result[idx[j]] = states[j];
            var f = states[^1].Factor;   // the numerical factor is [W₁ᵀ; W₂] itself
            (w1, w2) = (f.Block(0, 0, w1.Cols, w1.Rows).Transpose(), f.Block(w1.Cols, 0, w2.Rows, w2.Cols));
            start = end;
        }
        return result;
    }

    public static TheoryData<int, double> BalancedCases()
    {
        var data = new TheoryData<int, double>();
        int seed = 0;
        foreach (var lambda in new[] { -2.0, -0.5, 0.0, 0.5, 2.0 })
            for (int i = 0; i < 4; i++) data.Add(seed++, lambda);
        return data;
    }

    [Theory]
    [MemberData(nameof(BalancedCases))]
    public void Exact_across_switches_matches_the_numerical_flow_restarted_at_each_switch(int seed, double lambda)
    {
        var cs = Cases.TwoLayer(1000 + seed, dFixed: 1 + seed % 4, cFixed: 1 + seed * 7 % 4, lambdaFixed: lambda);
        var r = new Random(seed);
        int c = cs.Sigma.Rows, d = cs.Sigma.Cols, stages = 2 + seed % 3;
        var sigmas = Enumerable.Range(0, stages).Select(k => k == 0 ? cs.Sigma
            : k == 1 && seed % 2 == 0 ? -1 * cs.Sigma : Target(r, c, d)).ToArray();   // every other case a reversal
        var durations = sigmas.Select(_ => Cases.Uniform(r, 0.5, 3) / (cs.Eta1 * cs.Eta2)).ToArray();
        var tasks = sigmas.Zip(durations, (s, t) => new LinearTask(LinearData.Whitened(s), t)).ToArray();
        var seq = new TwoLayerLinearTasks(tasks, cs.W1, cs.W2, cs.Eta1, cs.Eta2);
        // Every switch, and times either side of it.
        var times = Enumerable.Range(0, stages + 1).Select(seq.StartOf)
            .SelectMany(t => new[] { t, t + 0.3 * durations.Min() }).Where(t => t <= seq.TotalDuration).ToArray();
        var exact = seq.Solve(times);
        var numeric = Restarted(sigmas, durations, cs.W1, cs.W2, cs.Eta1, cs.Eta2, times);
        double worst = 0;
        for (int i = 0; i < times.Length; i++)
        {
            var (e, n) = (exact[i], numeric[i]);
            double q2 = e.W1.TimesTranspose().Trace() + e.W2.TimesTranspose().Trace();
            foreach (var (name, x, y) in new[] { ("beta", e.Beta, n.Beta),
                ("W1tW1", e.W1.TransposeTimes(), n.W1tW1), ("W2W2t", e.W2.TimesTranspose(), n.W2W2t) })
            {
                // Decayed blocks are known to the reference only to ~rtol·‖Q‖² (rtol 1e-12): a 1e-11·‖Q‖² floor.
                double err = (x - y).FrobeniusNorm(), scale = x.FrobeniusNorm() + 1e-3 * q2;
                worst = Math.Max(worst, err / scale);
                Assert.True(err <= 1e-8 * scale, $"{name} differs by {err:G3} (scale {scale:G3}) at t = "
                    + $"{times[i]:G6}, stage {e.Task}; {cs}");
            }
        }
        output.WriteLine($"{cs} stages={stages}: worst relative difference {worst:G3}");
    }

    [Theory]
    [InlineData(-3.0)]
    [InlineData(-0.2)]
    [InlineData(0.0)]
    [InlineData(0.7)]
    [InlineData(4.0)]
    public void Lambda_is_conserved_across_switches_to_1e_12(double lambda)
    {
        var cs = Cases.TwoLayer(77, dFixed: 4, cFixed: 3, hFixed: lambda < 0 ? 4 : 3, lambdaFixed: lambda);
        var r = new Random(5);
        var tasks = new[] { cs.Sigma, -1 * cs.Sigma, Target(r, 3, 4), cs.Sigma }
            .Select((s, k) => new LinearTask(LinearData.Whitened(s), k == 2 ? 1e6 : 2.5)).ToArray();
        var seq = new TwoLayerLinearTasks(tasks, cs.W1, cs.W2, cs.Eta1, cs.Eta2);
        var times = Enumerable.Range(0, 200).Select(i => seq.TotalDuration * Math.Pow(i / 199.0, 4)).ToArray();
        double worst = 0;
        foreach (var s in seq.Solve(times))
        {
            var g2 = s.W2.TransposeTimes();
            var g1 = s.W1.TimesTranspose();
            var delta = cs.Eta1 * g2 - cs.Eta2 * g1;
            double scale = cs.Eta1 * g2.FrobeniusNorm() + cs.Eta2 * g1.FrobeniusNorm();
            double off = (delta - lambda * Matrix.Identity(delta.Rows)).FrobeniusNorm() / scale;
            worst = Math.Max(worst, Math.Max(off, s.LambdaDrift / scale));
            Assert.True(off <= 1e-12, $"|Delta - lambda I| / scale = {off:G3} at t = {s.T:G6}; {cs}");
            Assert.True(s.LambdaDrift <= 1e-12 * scale, $"lambda_drift {s.LambdaDrift:G3} at t = {s.T:G6}");
        }
        output.WriteLine($"lambda = {lambda}: worst relative conservation error {worst:G3}");
    }

    /// <summary>β(t) = s/(1 + (s/β₀ − 1)e^{−2st}): the scalar flow β̇ = 2β(s − β) at λ = 0 (w₁ = w₂ = √β).</summary>
    private static double Logistic(double s, double beta0, double t) =>
        s / (1 + (s / beta0 - 1) * Math.Exp(-2 * s * t));

    [Fact]
    public void Scalar_balanced_flow_is_logistic_in_each_stage_from_where_the_last_ended()
    {
        // c = d = h = 1, w₁ = w₂ = 0.1: λ = 0, β₀ = 0.01. Stages: s = 2 for 3, s = 0.5 for 10, s = -1 for 2.
        double[] s = [2, 0.5, -1], dur = [3, 10, 2];
        var tasks = s.Select((x, k) => new LinearTask(LinearData.Whitened(new Matrix(1, 1, [x])), dur[k])).ToArray();
        var w = new Matrix(1, 1, [0.1]);
        var seq = new TwoLayerLinearTasks(tasks, w, w.Clone());
        double[] times = [0, 1, 3, 4.5, 13, 14, 15];
        double Hand(double t)
        {
            double beta = 0.01, start = 0;
            for (int k = 0; ; k++)
            {
                if (t <= start + dur[k]) return Logistic(s[k], beta, t - start);
                beta = Logistic(s[k], beta, dur[k]);
                start += dur[k];
            }
        }
        var states = seq.Solve(times);
        for (int i = 0; i < times.Length; i++)
        {
            double hand = Hand(times[i]);
            Assert.Equal(hand, states[i].Beta[0, 0], 1e-13 * Math.Abs(hand) + 1e-300);
            // Every task's loss at every time, the active one reported as Loss.
            for (int k = 0; k < 3; k++) Assert.Equal(0.5 * Math.Pow(hand - s[k], 2), states[i].Losses[k], 1e-12);
        }
        Assert.Equal([0, 0, 0, 1, 1, 2, 2], states.Select(x => x.Task));   // t = 3 and 13: the stage that ended
        // Reversal at λ = 0: β stays > 0 and decays to the saddle at 0, so the loss on s = -1 never falls below ½.
        Assert.True(double.IsNaN(seq.TimeToLoss(2, 0.4)));
        Assert.True(states[^1].Beta[0, 0] > 0);
        // Time to loss ε in stage 1 by hand: β falls from ≈ 2 to s = 0.5, so it crosses β = s + √(2ε).
        double b1 = Logistic(2, 0.01, 3), eps = 1e-6, target = 0.5 + Math.Sqrt(2 * eps);
        double hand1 = -Math.Log((0.5 / target - 1) / (0.5 / b1 - 1)) / (2 * 0.5);
        Assert.Equal(hand1, seq.TimeToLoss(1, eps), 1e-9 * hand1);
    }

    [Fact]
    public void Scalar_reversal_with_nonzero_lambda_passes_through_zero_and_reaches_the_new_target()
    {
        // λ = 0.5: one weight crosses zero, so β can change sign (at λ = 0 it cannot, above).
        var tasks = new[] { 1.0, -1.0 }.Select(x => new LinearTask(LinearData.Whitened(new Matrix(1, 1, [x])), 20))
            .ToArray();
        double w1 = 0.1, w2 = Math.Sqrt(0.5 + w1 * w1);
        var seq = new TwoLayerLinearTasks(tasks, new Matrix(1, 1, [w1]), new Matrix(1, 1, [w2]));
        double t = seq.TimeToLoss(1, 1e-8);
        Assert.InRange(t, 0.1, 20);
        var at = seq.Solve([20 + t]);
        Assert.Equal(1e-8, at[0].Loss, 1e-14);
        // And the numerical path (carrying the weights) agrees on the same crossing time.
        var numeric = new TwoLayerLinearTasks(tasks, new Matrix(1, 1, [w1]), new Matrix(1, 1, [w2]), exact: false,
            integrator: Tight);
        Assert.Equal(t, numeric.TimeToLoss(1, 1e-8), 1e-7 * t);
    }

    [Fact]
    public void Bad_sequences_are_refused()
    {
        var a = LinearData.Whitened(new Matrix(1, 2, [1, 0]));
        var w1 = new Matrix(1, 2, [0.1, 0]);
        var w2 = new Matrix(1, 1, [0.1]);
        Assert.Throws<ArgumentException>(() => new TwoLayerLinearTasks([], w1, w2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TwoLayerLinearTasks([new(a, 0)], w1, w2));
        Assert.Throws<ArgumentException>(() => new TwoLayerLinearTasks(
            [new(a, 1), new(LinearData.Whitened(new Matrix(1, 1, [1])), 1)], w1, w2));
        var seq = new TwoLayerLinearTasks([new(a, 1), new(a, 2)], w1, w2);
        Assert.Throws<ArgumentOutOfRangeException>(() => seq.Solve([3.5]));
    }
}
