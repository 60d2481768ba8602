using RichLazyOrleans.Theory;
using Xunit.Abstractions;

namespace RichLazyOrleans.Theory.Tests;

/// <summary>
/// Which interpolant gradient flow reaches (issue 15, part 2), with the numerical flow (Dormand-Prince to t = 1e9,
/// rtol 1e-12) as the truth for the potentials' predictions.
/// </summary>
public class ImplicitBiasTests(ITestOutputHelper output)
{
    private static double RelDiff(Matrix a, Matrix b) => (a - b).FrobeniusNorm() / Math.Max(b.FrobeniusNorm(), 1e-300);

    private static Matrix[] FlowLimit(Matrix x, Matrix y, Matrix w1, Matrix w2, double eta1, double eta2)
    {
        var engine = new DeepLinearNumeric(LinearData.FromSamples(x, y), [w1, w2], [eta1, eta2])
        {
            Integrator = new DormandPrince45
            {
                RelativeTolerance = 1e-12, AbsoluteTolerance = 1e-16,
                NoiseFloorSteps = DeepLinearNumeric.NoiseFloorSteps,
            },
        };
        return engine.Solve([1e9])[0].Weights;
    }

    /// <summary>
    /// The single neuron on underdetermined correlated data (n = 3, d = 6), δ over [−10, 10], random directions
    /// and rates: the flow's limit is the neuron potential's minimiser with z₀ = sign(a)·w₀, to 1e-6, whenever a
    /// keeps its sign. When a crosses zero (downstream inits against the data) the minimiser with the final sign
    /// still holds, and the initial sign's is reported as the gap.
    /// </summary>
    [Fact]
    public void Single_neuron_flow_ends_at_the_potential_minimiser()
    {
        var r = new Random(2024);
        int flips = 0, cases = 0;
        double worst = 0, worstFlipGap = double.PositiveInfinity;
        foreach (double delta in new[] { -10, -3, -1, -0.3, 0, 0.3, 1, 3, 10 })
            for (int trial = 0; trial < 4; trial++)
            {
                var x = Cases.GaussianMatrix(r, 3, 6);
                var y = Cases.GaussianMatrix(r, 3, 1);
                double tau = Cases.LogUniform(r, 0.05, 2), etaA = Cases.Uniform(r, 0.5, 2), etaW = Cases.Uniform(r, 0.5, 2);
                // a₀, w₀ with η_w a₀² − η_a‖w₀‖² = δ and a₀²·‖w₀‖² = τ⁴ (so ‖β₀‖ = τ²).
                double q2 = (-delta + Math.Sqrt(delta * delta + 4 * etaA * etaW * Math.Pow(tau, 4))) / (2 * etaA);
                double a0 = (trial % 2 == 0 ? 1 : -1) * Math.Sqrt((delta + etaA * q2) / etaW);
                var dir = Cases.GaussianMatrix(r, 1, 6);
                var w0 = (Math.Sqrt(q2) / dir.FrobeniusNorm()) * dir;
                var w = FlowLimit(x, y, w0, new Matrix(1, 1, [a0]), etaW, etaA);
                var beta = w[1].Data[0] * w[0];
                bool flipped = Math.Sign(w[1].Data[0]) != Math.Sign(a0);
                var phi = new NeuronPotential(delta, etaA, etaW);
                var atFinalSign = Interpolants.MirrorLimit(phi, Math.Sign(w[1].Data[0]) * w0, x, y);
                double gap = RelDiff(beta, atFinalSign);
                Assert.True(gap < 1e-6, $"δ = {delta}, τ = {tau}, flipped {flipped}: gap {gap:E2}");
                worst = Math.Max(worst, gap);
                cases++;
                if (!flipped) continue;
                flips++;
                worstFlipGap = Math.Min(worstFlipGap, RelDiff(beta, Interpolants.MirrorLimit(phi, Math.Sign(a0) * w0, x, y)));
            }
        output.WriteLine($"{cases} cases, worst gap {worst:E2}; a crossed zero in {flips}, where the initial sign's "
            + $"minimiser is off by at least {worstFlipGap:E2}");
    }

    /// <summary>A λ-balanced init (c = d = h, so the potential's identities hold on all of ℝ^c and ℝ^d) whose β₀
    /// has singular vectors U, V: W₁ = O·diag(w)·Vᵀ, W₂ = U·diag(v)·Oᵀ with v² − w² = λ.</summary>
    private static (Matrix W1, Matrix W2) AlignedInit(Random r, Matrix u, Matrix v, double lambda, double scale)
    {
        int k = u.Rows;
        var o = Cases.Orthonormal(r, k, k);
        var wd = new Matrix(k, k);
        var vd = new Matrix(k, k);
        for (int i = 0; i < k; i++)
        {
            double p = scale * Cases.LogUniform(r, 0.3, 3);   // σ₀ = w·v, v² − w² = λ
            double w2 = (-lambda + Math.Sqrt(lambda * lambda + 4 * p * p)) / 2;
            wd[i, i] = Math.Sqrt(w2);
            vd[i, i] = Math.Sqrt(w2 + lambda);
        }
        return (o * wd * v.Transpose(), u * vd * o.Transpose());
    }

    [Fact]
    public void Two_layer_gap_table()
    {
        var r = new Random(99);
        int k = 4, n = 3;
        foreach (bool aligned in new[] { false })
            foreach (double scale in new[] { 1e-3, 1e-2, 0.3, 1 })
                foreach (double lambda in new[] { -1e-6, 1e-6, -1e-2, 1e-2, 1, 10, 100 })
                {
                    var u = Cases.Orthonormal(r, k, k);
                    var v = Cases.Orthonormal(r, k, k);
                    Matrix x, y;
                    if (aligned)
                    {
                        // X's rows span V's first n columns; Y = X·B*ᵀ with B* = U·diag·Vᵀ: everything shares U, V.
                        x = Cases.Orthonormal(r, n, n) * new Matrix(n, k, [1.3, 0, 0, 0, 0.7, 0]) * v.Transpose();
                        var bStar = u * new Matrix(k, k, [1.5, 0, 0, 0, -0.8, 0, 0, 0, 0]) * v.Transpose();
                        y = x * bStar.Transpose();
                    }
                    else
                    {
                        x = Cases.GaussianMatrix(r, n, k);
                        y = x * (Cases.GaussianMatrix(r, k, 1) * Cases.GaussianMatrix(r, 1, k)).Transpose();
                    }
                    var (w1, w2) = AlignedInit(r, u, v, lambda, scale);
                    var beta0 = w2 * w1;
                    var w = FlowLimit(x, y, w1, w2, 1, 1);
                    var beta = w[1] * w[0];
                    var phi = new HyperbolicEntropy(lambda);
                    var pot = Interpolants.MirrorLimit(phi, phi.Gradient(beta0), x, y);
                    var l2 = Interpolants.NearestFrobenius(beta0, x, y);
                    var nuc = Interpolants.MinNuclearNorm(x, y);
                    output.WriteLine($"aligned {aligned} scale {scale} λ {lambda}: gap {RelDiff(beta, pot):E2} "
                        + $"l2 {RelDiff(beta, l2):E2} nuclear {RelDiff(beta, nuc):E2} "
                        + $"(‖β‖* {Interpolants.NuclearNorm(beta):F6} vs min {Interpolants.NuclearNorm(nuc):F6})");
                }
    }
}
