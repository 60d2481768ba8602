using RichLazyOrleans.Theory;

namespace RichLazyOrleans.Theory.Tests;

/// <summary>The potentials and the interpolant solvers of issue 15 part 2, against cases with known answers.</summary>
public class InterpolantsTests
{
    private static double RelDiff(Matrix a, Matrix b) => (a - b).FrobeniusNorm() / Math.Max(b.FrobeniusNorm(), 1e-300);

    /// <summary>Gradient and ConjugateGradient are inverse maps, and ConjugateGradient is the gradient of Conjugate
    /// (central differences, step 1e-5: error ~1e-10 relative).</summary>
    [Theory]
    [InlineData("neuron", 2.0)]
    [InlineData("neuron", -3.0)]
    [InlineData("neuron", 0.0)]
    [InlineData("entropy", 0.05)]
    [InlineData("entropy", 4.0)]
    public void Mirror_map_and_conjugate_are_consistent(string which, double lambda)
    {
        var r = new Random(7);
        for (int trial = 0; trial < 10; trial++)
        {
            IMirrorPotential phi = which == "neuron"
                ? new NeuronPotential(lambda, Cases.Uniform(r, 0.5, 2), Cases.Uniform(r, 0.5, 2))
                : new HyperbolicEntropy(lambda, Cases.Uniform(r, 0.5, 2), Cases.Uniform(r, 0.5, 2));
            var beta = which == "neuron" ? Cases.GaussianMatrix(r, 1, 4) : Cases.GaussianMatrix(r, 2, 3);
            var z = phi.Gradient(beta);
            double roundTrip = RelDiff(phi.ConjugateGradient(z), beta);
            Assert.True(roundTrip < 1e-12, $"round trip {roundTrip:E2}");
            var fd = new Matrix(z.Rows, z.Cols);
            for (int i = 0; i < z.Data.Length; i++)
            {
                var (p, m) = (z.Clone(), z.Clone());
                p.Data[i] += 1e-5;
                m.Data[i] -= 1e-5;
                fd.Data[i] = (phi.Conjugate(p) - phi.Conjugate(m)) / 2e-5;
            }
            Assert.True(RelDiff(fd, beta) < 1e-8, $"∇Φ* vs differences of Φ*: {RelDiff(fd, beta):E2}");
        }
    }

    /// <summary>The neuron's mirror image of β = a·w is w itself (a &gt; 0), whatever δ = η_w a² − η_a‖w‖².</summary>
    [Fact]
    public void Neuron_mirror_map_of_a_times_w_is_w()
    {
        var r = new Random(3);
        for (int trial = 0; trial < 20; trial++)
        {
            double a = Cases.LogUniform(r, 0.01, 10), etaA = Cases.Uniform(r, 0.2, 3), etaW = Cases.Uniform(r, 0.2, 3);
            var w = Cases.GaussianMatrix(r, 1, 5);
            double delta = etaW * a * a - etaA * Math.Pow(w.FrobeniusNorm(), 2);
            var z = new NeuronPotential(delta, etaA, etaW).Gradient(a * w);
            Assert.True(RelDiff(z, w) < 1e-12, $"δ = {delta}: {RelDiff(z, w):E2}");
        }
    }

    /// <summary>Scalar hyperbolic entropy: φ'(σ) = ½·arsinh(2σ/μ) with μ = |λ|/√(η₁η₂).</summary>
    [Fact]
    public void Hyperbolic_entropy_on_a_scalar_is_half_arsinh()
    {
        var phi = new HyperbolicEntropy(-0.3, 2, 0.5);   // μ = 0.3
        Assert.Equal(0.5 * double.Asinh(2 * 1.7 / 0.3), phi.Gradient(new Matrix(1, 1, [1.7])).Data[0], 13);
        Assert.Equal(-0.5 * double.Asinh(2 * 1.7 / 0.3), phi.Gradient(new Matrix(1, 1, [-1.7])).Data[0], 13);
    }

    [Fact]
    public void Nearest_frobenius_interpolant_by_hand()
    {
        // X = [1 1], y = 2, β₀ = [1, −1]: β = β₀ + (2 − 0)·[1 1]/2 = [2, 0].
        var beta = Interpolants.NearestFrobenius(new Matrix(1, 2, [1, -1]), new Matrix(1, 2, [1, 1]),
            new Matrix(1, 1, [2]));
        Assert.Equal(2.0, beta.Data[0], 14);
        Assert.Equal(0.0, beta.Data[1], 14);
    }

    /// <summary>
    /// The minimum nuclear-norm interpolant is the minimum-Frobenius one (the operator-monotone argument in
    /// <see cref="Interpolants.MinNuclearNorm"/>): checked against a brute-force compass search over the 2-parameter
    /// family of interpolants (c = 2, d = 3, n = 2), and against 200 random interpolants of a larger case, none of
    /// which has a smaller nuclear norm.
    /// </summary>
    [Fact]
    public void Min_nuclear_norm_interpolant_against_brute_force()
    {
        var r = new Random(11);
        for (int trial = 0; trial < 5; trial++)
        {
            var x3 = Cases.GaussianMatrix(r, 2, 3);
            var y = Cases.GaussianMatrix(r, 2, 2);
            var min = Interpolants.MinNuclearNorm(x3, y);
            Assert.True((min * x3.Transpose() - y.Transpose()).FrobeniusNorm() < 1e-12);
            var brute = BruteForceNuclear(x3, y);
            double nMin = Interpolants.NuclearNorm(min), nBrute = Interpolants.NuclearNorm(brute);
            Assert.True(nMin <= nBrute * (1 + 1e-12), $"closed form {nMin} vs brute force {nBrute}");
            Assert.True(RelDiff(brute, min) < 1e-6, $"{RelDiff(brute, min):E2}");
        }
        var x = Cases.GaussianMatrix(r, 3, 7);
        var yy = Cases.GaussianMatrix(r, 3, 4);
        var best = Interpolants.MinNuclearNorm(x, yy);
        var q = Interpolants.NullProjector(x);
        for (int i = 0; i < 200; i++)
        {
            var other = best + (i % 2 == 0 ? 1e-3 : 1.0) * (Cases.GaussianMatrix(r, 4, 7) * q);
            Assert.True((other * x.Transpose() - yy.Transpose()).FrobeniusNorm() < 1e-10);
            Assert.True(Interpolants.NuclearNorm(other) > Interpolants.NuclearNorm(best));
        }
    }

    private static readonly (double, double)[] Compass =
        [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)];

    /// <summary>Compass search on p ↦ ‖β_p + p·nᵀ‖_* (n spans null(X), p ∈ ℝ²), halving the step to 1e-13.</summary>
    private static Matrix BruteForceNuclear(Matrix x, Matrix y)
    {
        var b0 = Interpolants.NearestFrobenius(new Matrix(2, 3), x, y);
        var n = new Matrix(1, 3, [
            x[0, 1] * x[1, 2] - x[0, 2] * x[1, 1], x[0, 2] * x[1, 0] - x[0, 0] * x[1, 2],
            x[0, 0] * x[1, 1] - x[0, 1] * x[1, 0]]);   // the cross product of X's rows
        Matrix At(double p, double q) => b0 + new Matrix(2, 1, [p, q]) * n;
        double bestP = 0, bestQ = 0, best = Interpolants.NuclearNorm(At(0, 0));
        for (double step = 1; step > 1e-13;)
        {
            bool moved = false;
            foreach (var (dp, dq) in Compass)
            {
                double v = Interpolants.NuclearNorm(At(bestP + step * dp, bestQ + step * dq));
                if (v < best) { (best, bestP, bestQ, moved) = (v, bestP + step * dp, bestQ + step * dq, true); break; }
            }
            if (!moved) step /= 2;
        }
        return At(bestP, bestQ);
    }

    /// <summary>
    /// The neuron's mirror limit by hand: X selects the first n coordinates. Unobserved coordinates of w keep w₀'s,
    /// β_o = y, w_o = y/a, and a² = δ + ‖w‖² gives a⁴ − (δ + ‖w₀ᵤ‖²)a² − ‖y‖² = 0 (rates 1).
    /// </summary>
    [Theory]
    [InlineData(0.5)]
    [InlineData(-0.4)]
    [InlineData(5.0)]
    public void Neuron_mirror_limit_on_a_coordinate_selection_by_hand(double delta)
    {
        var x = new Matrix(2, 4, [1, 0, 0, 0, 0, 1, 0, 0]);
        var y = new Matrix(2, 1, [0.8, -0.5]);
        var w0 = new Matrix(1, 4, [0.3, 0.1, -0.6, 0.4]);
        double k = delta + 0.36 + 0.16, yy = 0.64 + 0.25;
        double a = Math.Sqrt((k + Math.Sqrt(k * k + 4 * yy)) / 2);
        var expected = new Matrix(1, 4, [0.8, -0.5, -0.6 * a, 0.4 * a]);
        var beta = Interpolants.MirrorLimit(new NeuronPotential(delta), w0, x, y);
        Assert.True(RelDiff(beta, expected) < 1e-12, $"{RelDiff(beta, expected):E2}");
    }

    /// <summary>KKT in the primal, checked with the other map: βXᵀ = Yᵀ and ∇Φ(β) − z₀ ⊥ null(X).</summary>
    [Theory]
    [InlineData("entropy", 1e-3)]
    [InlineData("entropy", 0.5)]
    [InlineData("entropy", 20.0)]
    [InlineData("neuron", -6.0)]
    [InlineData("neuron", 8.0)]
    public void Mirror_limit_satisfies_its_optimality_conditions(string which, double lambda)
    {
        var r = new Random(5);
        for (int trial = 0; trial < 5; trial++)
        {
            int c = which == "neuron" ? 1 : 2, d = 5, n = 3;
            IMirrorPotential phi = which == "neuron" ? new NeuronPotential(lambda) : new HyperbolicEntropy(lambda);
            var x = Cases.GaussianMatrix(r, n, d);
            var y = Cases.GaussianMatrix(r, n, c);
            var z0 = phi.Gradient(0.3 * Cases.GaussianMatrix(r, c, d));
            if (which == "neuron" && lambda < 0) z0 = (2 * Math.Sqrt(-lambda) / z0.FrobeniusNorm()) * z0;
            var beta = Interpolants.MirrorLimit(phi, z0, x, y);
            Assert.True((beta * x.Transpose() - y.Transpose()).FrobeniusNorm() < 1e-11 * y.FrobeniusNorm());
            var gap = phi.Gradient(beta) - z0;
            var outside = gap - gap * x.Transpose() * Inverse(x.TimesTranspose()) * x;   // the part in null(X)
            Assert.True(outside.FrobeniusNorm() < 1e-9 * (1 + gap.FrobeniusNorm()), $"{outside.FrobeniusNorm():E2}");
        }
    }

    private static Matrix Inverse(Matrix spd) => new SymmetricEigen(spd).Apply(v => 1 / v);
}
