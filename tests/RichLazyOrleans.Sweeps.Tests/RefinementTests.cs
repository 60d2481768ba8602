using RichLazyOrleans.Sweeps;
using RichLazyOrleans.Theory;
using Xunit.Abstractions;

namespace RichLazyOrleans.Sweeps.Tests;

public class RefinementTests(ITestOutputHelper output)
{
    /// <summary>The `synthetic` run kind's field on axis fractions: log10 τ over [−1, 1], δ over [−1, 1].</summary>
    internal sealed record Synthetic(double C0, double C1, double C2, double Width)
    {
        public double At(double u, double v)
        {
            double logTau = -1 + 2 * u, delta = -1 + 2 * v;
            return 1 / (1 + Math.Exp(-(logTau - C0 - C1 * delta - C2 * delta * delta) / Width));
        }

        public static Synthetic Random(Random r) => new(r.NextDouble() - 0.5, 1.2 * (r.NextDouble() - 0.5), 1.2 * (r.NextDouble() - 0.5), 0.01 + 0.05 * r.NextDouble());
    }

    /// <summary>Runs the adaptive sweep against a known field, as the coordinator would, round by round.</summary>
    internal static Dictionary<LatticePoint, double> Adaptive(Func<double, double, double> field, int initial, int maxDepth, int budget, double threshold = 0.5)
    {
        var lattice = new Lattice([initial, initial], maxDepth);
        var refinement = new Refinement(lattice, threshold, budget);
        var values = lattice.InitialPoints().ToDictionary(p => p, p => { var (u, v) = lattice.Fractions(p); return field(u, v); });
        for (int depth = 0; depth < maxDepth; depth++)
        {
            var next = refinement.NextRound(values, depth);
            Assert.All(next, p => Assert.False(values.ContainsKey(p), "a point was planned twice"));
            foreach (var p in next) { var (u, v) = lattice.Fractions(p); values[p] = field(u, v); }
        }
        return values;
    }

    internal static Dictionary<LatticePoint, double> Uniform(Func<double, double, double> field, int perAxis)
    {
        var lattice = new Lattice([perAxis, perAxis], 0);
        return lattice.InitialPoints().ToDictionary(p => p, p => { var (u, v) = lattice.Fractions(p); return field(u, v); });
    }

    /// <summary>Fraction of the domain where the estimate and the truth fall on different sides of the threshold.</summary>
    internal static double MisclassifiedArea(Func<double, double, double> truth, FieldEstimate estimate, double threshold = 0.5, int m = 300)
    {
        int wrong = 0;
        for (int a = 0; a < m; a++)
            for (int b = 0; b < m; b++)
            {
                double u = (a + 0.5) / m, v = (b + 0.5) / m;
                if ((truth(u, v) >= threshold) != (estimate.At(u, v) >= threshold)) wrong++;
            }
        return wrong / (double)(m * m);
    }

    [Fact]
    public void Adaptive_points_beat_a_uniform_grid_with_four_times_as_many_points_on_random_synthetic_boundaries()
    {
        var ratios = new List<double>();
        for (int seed = 0; seed < 25; seed++)
        {
            var field = Synthetic.Random(new Random(seed));
            var adaptive = Adaptive(field.At, 9, 4, 600);
            int perAxis = (int)Math.Ceiling(Math.Sqrt(4.0 * adaptive.Count));
            var uniform = Uniform(field.At, perAxis);
            double ea = MisclassifiedArea(field.At, new FieldEstimate(new Lattice([9, 9], 4), adaptive));
            double eu = MisclassifiedArea(field.At, new FieldEstimate(new Lattice([perAxis, perAxis], 0), uniform));
            output.WriteLine($"seed {seed}: {field} adaptive {adaptive.Count} pts err {ea:G3}; uniform {uniform.Count} pts err {eu:G3}");
            Assert.True(ea <= eu, $"seed {seed}: adaptive ({adaptive.Count} points) misclassifies {ea:G3}, uniform ({uniform.Count}) {eu:G3}");
            ratios.Add(eu / Math.Max(ea, 1e-9));
        }
        output.WriteLine($"uniform(4x points) / adaptive misclassified area: median {ratios.Order().ElementAt(ratios.Count / 2):G3}, min {ratios.Min():G3}");
    }

    [Fact]
    public void Rounds_are_deterministic_respect_budget_and_depth_and_only_add_lattice_midpoints()
    {
        var field = Synthetic.Random(new Random(3));
        var a = Adaptive(field.At, 5, 3, 400);
        var b = Adaptive(field.At, 5, 3, 400);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        Assert.True(a.Count <= 400);
        var tight = Adaptive(field.At, 5, 3, 60);
        Assert.InRange(tight.Count, 26, 60);   // the budget caps grid points
        var lattice = new Lattice([5, 5], 3);
        Assert.All(a.Keys, p => Assert.InRange(lattice.DepthOf(p), 0, 3));
        Assert.Contains(a.Keys, p => lattice.DepthOf(p) == 3);
        // A field with no boundary adds nothing.
        Assert.Equal(25, Adaptive((_, _) => 0.9, 5, 3, 1000).Count);
    }

    [Fact]
    public void Refines_along_the_boundary_only()
    {
        // Boundary u = 0.37: every point added after the initial lattice lies within two initial cells of it.
        var values = Adaptive((u, _) => u > 0.37 ? 1 : 0, 5, 3, 10_000);
        var lattice = new Lattice([5, 5], 3);
        foreach (var p in values.Keys.Where(p => lattice.DepthOf(p) > 0))
            Assert.InRange(lattice.Fractions(p).U, 0.37 - 0.5, 0.37 + 0.5);
        Assert.True(values.Count < 9 * 9 * 9, "refinement should not fill the whole domain");
    }

    [Fact]
    public void One_axis_sweeps_refine_intervals()
    {
        var lattice = new Lattice([5], 4);
        var refinement = new Refinement(lattice, 0.5, 100);
        double Field(double u) => u > 0.61 ? 1 : 0;
        var values = lattice.InitialPoints().ToDictionary(p => p, p => Field(lattice.Fractions(p).U));
        for (int depth = 0; depth < 4; depth++)
            foreach (var p in refinement.NextRound(values, depth)) values[p] = Field(lattice.Fractions(p).U);
        var estimate = new FieldEstimate(lattice, values);
        // The boundary is located to within the finest spacing (1/64) on each side.
        double lo = values.Where(kv => kv.Value == 0).Max(kv => lattice.Fractions(kv.Key).U);
        double hi = values.Where(kv => kv.Value == 1).Min(kv => lattice.Fractions(kv.Key).U);
        Assert.True(hi - lo <= 1.0 / 64 + 1e-12, $"bracket [{lo}, {hi}]");
        Assert.Equal(0.0, estimate.At(0.5, 0));
    }

    [Fact]
    public void Adaptive_beats_four_times_uniform_on_the_exact_single_neuron_kernel_distance()
    {
        // Axes τ ∈ [0.01, 10] (log) and δ ∈ [−2, 2]; threshold 0.3 of the converged kernel distance.
        double Field(double u, double v)
        {
            double tau = Math.Pow(10, -2 + 3 * u), delta = -2 + 4 * v;
            double alpha = Initialisation.Alpha(tau, delta);
            var exact = new SingleNeuronExact([1, 0, 0], tau / alpha, [tau * alpha * -0.5, tau * alpha * 0.8660254037844386, 0]);
            return exact.At(1e9).KernelDistance;
        }
        var adaptive = Adaptive(Field, 9, 4, 700, threshold: 0.3);
        int perAxis = (int)Math.Ceiling(Math.Sqrt(4.0 * adaptive.Count));
        var uniform = Uniform(Field, perAxis);
        double ea = MisclassifiedArea(Field, new FieldEstimate(new Lattice([9, 9], 4), adaptive), 0.3);
        double eu = MisclassifiedArea(Field, new FieldEstimate(new Lattice([perAxis, perAxis], 0), uniform), 0.3);
        output.WriteLine($"single neuron: adaptive {adaptive.Count} pts misclassified {ea:G3}; uniform {uniform.Count} pts {eu:G3}; ratio {eu / Math.Max(ea, 1e-12):G3}");
        Assert.True(ea <= eu, $"adaptive {ea:G3} vs uniform {eu:G3}");
    }
}
