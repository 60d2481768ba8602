using RichLazyOrleans.Theory;

namespace RichLazyOrleans.Theory.Tests;

/// <summary>`deep-linear` against truths independent of it: the two-layer engines, a hand-derived scalar flow, and
/// the conservation law of gradient flow.</summary>
public class DeepLinearTests
{
    private static readonly double[] Times = [0, 0.1, 0.5, 1, 2, 5, 10, 30, 100];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Two_layers_equal_the_two_layer_linear_engines_to_1e_10(int seed)
    {
        // Balanced cases (the exact solution applies) and their numeric flow, against L = 2 of the deep engine.
        var cs = Cases.TwoLayer(seed);
        var deep = new DeepLinearNumeric(LinearData.Whitened(cs.Sigma), [cs.W1, cs.W2], [cs.Eta1, cs.Eta2])
            { Integrator = SingleNeuronTests.TightIntegrator }.Solve(Times);
        var exact = new TwoLayerLinearExact(cs.Sigma, cs.W1, cs.W2, cs.Eta1, cs.Eta2);
        var numeric = new TwoLayerLinearNumeric(cs.Sigma, cs.W1, cs.W2, cs.Eta1, cs.Eta2)
            { Integrator = SingleNeuronTests.TightIntegrator }.Solve(Times);
        for (int i = 0; i < Times.Length; i++)
        {
            var truth = exact.At(Times[i]);
            double scale = Math.Max(1, truth.Beta.FrobeniusNorm());
            Assert.True((deep[i].Beta - truth.Beta).FrobeniusNorm() <= 1e-10 * scale, $"{cs} t={Times[i]}: beta");
            Assert.True((deep[i].Beta - numeric[i].Beta).FrobeniusNorm() <= 1e-10 * scale, $"{cs} t={Times[i]}");
            Assert.Equal(truth.Loss, deep[i].Loss, 1e-10 * Math.Max(1, truth.Loss));
            Assert.True(Math.Abs(deep[i].KernelDistance - truth.KernelDistance) <= 1e-10,
                $"{cs} t={Times[i]}: kernel distance {deep[i].KernelDistance:R} vs {truth.KernelDistance:R}");
        }
    }

    /// <summary>ṗ = L·p^(2−2/L)·(s − p) by classical RK4 with a fixed small step: nothing shared with the engine.
    /// </summary>
    private static double ScalarChain(int layers, double p0, double s, double t)
    {
        double F(double p) => layers * Math.Pow(p, 2 - 2.0 / layers) * (s - p);
        int steps = (int)Math.Ceiling(t / 1e-4);
        double h = t / steps, p = p0;
        for (int k = 0; k < steps; k++)
        {
            double k1 = F(p), k2 = F(p + h / 2 * k1), k3 = F(p + h / 2 * k2), k4 = F(p + h * k3);
            p += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
        }
        return p;
    }

    [Theory]
    [InlineData(2, 0.1, 1.5)]
    [InlineData(3, 0.2, 2.0)]
    [InlineData(4, 0.5, 0.7)]
    [InlineData(5, 0.8, 3.0)]
    public void The_balanced_scalar_chain_follows_its_hand_derived_flow(int layers, double w0, double s)
    {
        // Every layer the scalar w: ẇ = −(p − s)·p/w, so ṗ = L·w^(L−1)·ẇ = L·p^(2−2/L)·(s − p) with p = w^L.
        var weights = Enumerable.Range(0, layers).Select(_ => new Matrix(1, 1, [w0])).ToArray();
        double[] times = [0, 0.5, 1, 2, 4, 8];
        var states = new DeepLinearNumeric(LinearData.Whitened(new Matrix(1, 1, [s])), weights,
            Enumerable.Repeat(1.0, layers).ToArray()) { Integrator = SingleNeuronTests.TightIntegrator }.Solve(times);
        double p0 = Math.Pow(w0, layers);
        for (int i = 0; i < times.Length; i++)
        {
            double truth = ScalarChain(layers, p0, s, times[i]);
            Assert.True(Math.Abs(states[i].Beta[0, 0] - truth) <= 1e-10 * Math.Max(1, Math.Abs(truth)),
                $"L={layers} t={times[i]}: {states[i].Beta[0, 0]:R} vs {truth:R}");
            Assert.True(states[i].ConservationDrift <= 1e-10, $"drift {states[i].ConservationDrift:G3}");
        }
    }

    [Fact]
    public void Converged_networks_answer_t_1e9_and_a_long_plateau_is_not_taken_for_the_end()
    {
        // Scalar chain, L = 3, w0 = 3e-4 (p0 = 2.7e-11): a plateau until t ≈ 1/(3·w0) ≈ 1 100, then p → s = 1.
        var weights = Enumerable.Range(0, 3).Select(_ => new Matrix(1, 1, [3e-4])).ToArray();
        var chain = new DeepLinearNumeric(LinearData.Whitened(new Matrix(1, 1, [1.0])), weights, [1, 1, 1])
            .Solve([0, 500, 1e9]);
        double plateau = ScalarChain(3, Math.Pow(3e-4, 3), 1.0, 500);
        Assert.Equal(plateau, chain[1].Beta[0, 0], 1e-9 * plateau);     // still on the plateau, and followed exactly
        Assert.Equal(1.0, chain[2].Beta[0, 0], 1e-9);                   // then learned, and held at the end

        // A random 3-layer network on whitened data: the state held at 1e9 is the converged one.
        var r = new Random(21);
        var sigma = Cases.GaussianMatrix(r, 2, 3);
        Matrix[] w = [0.1 * Cases.GaussianMatrix(r, 4, 3), 0.1 * Cases.GaussianMatrix(r, 4, 4),
            0.1 * Cases.GaussianMatrix(r, 2, 4)];
        var engine = new DeepLinearNumeric(LinearData.Whitened(sigma), w, [1, 1, 1]);
        var states = engine.Solve([0, 1e4, 1e9]);
        Assert.True(states[2].Loss < 1e-18, $"loss {states[2].Loss:G3}");
        Assert.True((states[2].Beta - sigma).FrobeniusNorm() < 1e-9);
        Assert.True(engine.Stats!.SteadyStateFrom < 1e9);
    }

    [Theory]
    [InlineData(11, 3)]
    [InlineData(12, 4)]
    [InlineData(13, 5)]
    public void Unbalanced_random_networks_on_correlated_data_conserve_C_l_to_1e_10(int seed, int layers)
    {
        var r = new Random(seed);
        int d = 4, c = 3, n = 7;
        int[] sizes = [d, .. Enumerable.Range(0, layers - 1).Select(_ => r.Next(2, 6)), c];
        var x = Cases.GaussianMatrix(r, n, d);
        var y = Cases.GaussianMatrix(r, n, c);
        var weights = Enumerable.Range(0, layers)
            .Select(l => (0.7 / Math.Sqrt(sizes[l])) * Cases.GaussianMatrix(r, sizes[l + 1], sizes[l])).ToArray();
        var etas = Enumerable.Range(0, layers).Select(_ => 0.5 + r.NextDouble()).ToArray();
        var engine = new DeepLinearNumeric(LinearData.FromSamples(x, y), weights, etas)
            { Integrator = SingleNeuronTests.TightIntegrator };
        var states = engine.Solve([0, 1, 10, 100, 1000]);
        Assert.All(states, s => Assert.True(s.ConservationDrift <= 1e-10, $"drift {s.ConservationDrift:G3} at {s.T}"));
        // The loss falls, and the flow ends at a critical point: at least as low as least squares allows.
        for (int i = 1; i < states.Length; i++) Assert.True(states[i].Loss <= states[i - 1].Loss + 1e-14);
        var leastSquares = LeastSquaresLoss(x, y);
        Assert.True(states[^1].Loss >= leastSquares - 1e-12,
            $"{states[^1].Loss:R} below least squares {leastSquares:R}");
        Assert.Equal(0, states[0].KernelDistance);
        Assert.InRange(states[^1].KernelDistance, 1e-6, 1);
    }

    /// <summary>min_β (1/2n)‖Xβᵀ − Y‖² = (1/2n)(‖Y‖² − tr(YᵀX(XᵀX)⁻¹XᵀY)), by the normal equations.</summary>
    private static double LeastSquaresLoss(Matrix x, Matrix y)
    {
        var inv = new SymmetricEigen(x.TransposeTimes()).Apply(v => 1 / v);
        var fit = x * inv * x.Transpose() * y;
        return 0.5 / x.Rows * Math.Pow((fit - y).FrobeniusNorm(), 2);
    }

    [Fact]
    public void Shapes_that_do_not_chain_are_refused()
    {
        var data = LinearData.Whitened(new Matrix(2, 3));
        Assert.Throws<ArgumentException>(() => new DeepLinearNumeric(data, [new Matrix(4, 3)], [1]));
        Matrix w1 = new(4, 3), w2Wrong = new(2, 5), w2 = new(2, 4);
        Assert.Throws<ArgumentException>(() => new DeepLinearNumeric(data, [w1, w2Wrong], [1, 1]));
        Assert.Throws<ArgumentException>(() => new DeepLinearNumeric(data, [w1, w2], [1, 0]));
    }
}
