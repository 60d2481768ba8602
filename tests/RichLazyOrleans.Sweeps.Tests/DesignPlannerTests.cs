using RichLazyOrleans.Sweeps;
using Xunit.Abstractions;

namespace RichLazyOrleans.Sweeps.Tests;

/// <summary>The fixed-design planners, `planner: grid` and `planner: random`.</summary>
public class DesignPlannerTests(ITestOutputHelper output)
{
    internal static SweepSpec Spec(string planner, string refine, string seeds = "[1, 2]", string initial = "[4, 3]",
        string name = "design") => SweepSpec.Parse(Yaml(planner, refine, seeds, initial, name), SweepSpecTests.Kinds);

    internal static string Yaml(string planner, string refine, string seeds = "[1, 2]", string initial = "[4, 3]",
        string name = "design") => $$"""
        name: {{name}}
        kind: synthetic
        planner: {{planner}}
        axes:
          tau:   { from: 0.1, to: 10.0, scale: log }
          delta: { from: -1.0, to: 1.0 }
        seeds: {{seeds}}
        grid: { initial: {{initial}} }
        {{refine}}
        """;

    /// <summary>Drives a planner to the end, telling every run a value at once.</summary>
    private static List<PlannedRun> RunAll(ISweepPlanner planner, int window = 5)
    {
        var all = new List<PlannedRun>();
        while (planner.Ask(window) is { Count: > 0 } runs)
        {
            all.AddRange(runs);
            foreach (var r in runs) planner.Tell(r.Point, r.Seed, r.Point.I + 0.01 * r.Seed);
        }
        Assert.True(planner.IsComplete);
        return all;
    }

    [Fact]
    public void Grid_proposes_the_full_lattice_each_point_once_with_every_seed_coarse_to_fine()
    {
        var spec = Spec("grid", "refine: { max_depth: 2 }");
        var lattice = Lattice.For(spec);
        var runs = RunAll(SweepPlanner.Create(spec));
        // (4 − 1)·2² + 1 = 13 by (3 − 1)·2² + 1 = 9 lattice points, each with seeds 1 and 2.
        var points = runs.Select(r => r.Point).Distinct().ToList();
        Assert.Equal(13 * 9, points.Count);
        Assert.Equal(2 * 13 * 9, runs.Count);
        Assert.Equal(runs.Count, runs.Select(r => (r.Point, r.Seed)).Distinct().Count());
        Assert.All(points, p => Assert.InRange(p.I, 0, 12));
        Assert.All(points, p => Assert.InRange(p.J, 0, 8));
        Assert.Equal(lattice.InitialPoints(), points.Take(12));   // the initial lattice first
        Assert.Equal(runs.Select(r => r.Depth).Order(), runs.Select(r => r.Depth));   // then coarse to fine
        Assert.Equal([12, 7 * 5 - 12, 13 * 9 - 7 * 5], points.GroupBy(lattice.DepthOf).Select(g => g.Count()));
        Assert.Equal(13 * 9, spec.Refine!.Budget);   // the budget left out is the lattice's count
    }

    [Fact]
    public void Grid_on_one_axis_and_without_refine_and_with_adaptive_seeds()
    {
        var oneAxis = SweepSpec.Parse("name: g\nkind: synthetic\nplanner: grid\naxes: { delta: { from: -1, to: 1 } }\n"
            + "grid: { initial: [5] }\nrefine: { max_depth: 3 }\n", SweepSpecTests.Kinds);
        var runs = RunAll(SweepPlanner.Create(oneAxis));
        Assert.Equal(Enumerable.Range(0, 4 * 8 + 1), runs.Select(r => r.Point.I).Order());
        Assert.All(runs, r => Assert.Equal(0, r.Point.J));

        var plain = Spec("grid", "", seeds: "[7]");   // no refine: the initial lattice
        Assert.Equal(12, RunAll(SweepPlanner.Create(plain)).Count);

        // Adaptive seeds: the first `min` at every point (nothing to be unsure about without a threshold).
        var adaptive = Spec("grid", "refine: { max_depth: 1 }", seeds: "{ first: 10, min: 3, max: 8 }");
        var seeded = RunAll(SweepPlanner.Create(adaptive));
        Assert.Equal(7 * 5 * 3, seeded.Count);
        Assert.All(seeded.GroupBy(r => r.Point), g => Assert.Equal([10L, 11, 12], g.Select(r => r.Seed)));
    }

    [Fact]
    public void Grid_summaries_give_mean_error_seeds_depth_and_order()
    {
        var spec = Spec("grid", "refine: { metric: value, max_depth: 1 }");
        var planner = SweepPlanner.Create(spec);
        var runs = planner.Ask(4);   // two points, two seeds each
        planner.Tell(runs[0].Point, runs[0].Seed, 0.2);
        planner.Tell(runs[1].Point, runs[1].Seed, 0.4);
        planner.Tell(runs[2].Point, runs[2].Seed, null);   // failed
        var points = planner.Points();
        Assert.Equal(2, points.Count);
        Assert.Equal(0.3, points[0].Mean, 12);
        Assert.Equal(Math.Sqrt(0.02 / 2), points[0].StdError, 12);
        Assert.Equal((2, 2, 0, 0), (points[0].Seeds, points[0].Proposed, points[0].Order, points[0].Depth));
        Assert.Equal((0, 2, 2), (points[1].Seeds, points[1].Proposed, points[1].Order));
        Assert.True(double.IsNaN(points[1].Mean));
        Assert.Equal(1, planner.Pending);
        Assert.Null(spec.Threshold);
        Assert.Equal("value", spec.Refine!.Metric);
    }

    [Fact]
    public void Grid_refuses_a_lattice_too_big_naming_planner_and_a_budget_that_would_cut_it_short()
    {
        var big = Assert.Throws<SpecException>(() => Spec("grid", "refine: { max_depth: 8 }", initial: "[5, 5]"));
        Assert.StartsWith("key 'planner'", big.Message);
        Assert.Contains((1025L * 1025).ToString(), big.Message);
        Assert.DoesNotContain("\n", big.Message);
        var cut = Assert.Throws<SpecException>(() => Spec("grid", "refine: { max_depth: 2, budget: 100 }"));
        Assert.StartsWith("key 'refine.budget'", cut.Message);
        Assert.Equal(500, Spec("grid", "refine: { max_depth: 2, budget: 500 }").Refine!.Budget);   // binds nothing
        Assert.Equal(117, RunAll(SweepPlanner.Create(Spec("grid", "refine: { max_depth: 2, budget: 500 }")))
            .Select(r => r.Point).Distinct().Count());
    }

    [Fact]
    public void Random_proposes_budget_distinct_lattice_points_the_same_every_time()
    {
        var spec = Spec("random", "refine: { max_depth: 3, budget: 150 }", initial: "[5, 5]");
        var lattice = Lattice.For(spec);
        var runs = RunAll(SweepPlanner.Create(spec));
        var points = runs.Select(r => r.Point).Distinct().ToList();
        Assert.Equal(150, points.Count);
        Assert.Equal(300, runs.Count);
        Assert.All(points, p => Assert.Equal(p, new LatticePoint(Math.Clamp(p.I, 0, 32), Math.Clamp(p.J, 0, 32))));
        Assert.All(runs, r => Assert.Equal(lattice.DepthOf(r.Point), r.Depth));
        Assert.False(lattice.InitialPoints().All(points.Contains));   // the initial lattice is not forced
        Assert.Equal(runs, RunAll(SweepPlanner.Create(spec)));
        Assert.Equal(runs, RunAll(SweepPlanner.Create(SweepSpec.Parse(Yaml("random",
            "refine: { max_depth: 3, budget: 150 }", initial: "[5, 5]"), SweepSpecTests.Kinds))));
        var other = RunAll(SweepPlanner.Create(spec with { Name = "another" }));
        Assert.NotEqual(points, other.Select(r => r.Point).Distinct());   // the name seeds the scramble
    }

    [Fact]
    public void Random_without_budget_takes_the_initial_lattice_s_count_and_refuses_more_than_the_lattice_has()
    {
        Assert.Equal(12, RunAll(SweepPlanner.Create(Spec("random", "refine: { max_depth: 4 }", seeds: "[0]"))).Count);
        // Without refine the lattice is the initial one: all of it, in a scrambled order.
        var plain = RunAll(SweepPlanner.Create(Spec("random", "", seeds: "[0]")));
        Assert.Equal(Lattice.For(Spec("random", "")).InitialPoints().Order(), plain.Select(r => r.Point).Order());
        // Every point of the lattice: the Sobol sequence reaches every bin.
        Assert.Equal(13 * 9, RunAll(SweepPlanner.Create(Spec("random", "refine: { max_depth: 2, budget: 117 }",
            seeds: "[0]"))).Count);
        var e = Assert.Throws<SpecException>(() => Spec("random", "refine: { max_depth: 2, budget: 118 }"));
        Assert.StartsWith("key 'refine.budget'", e.Message);
        Assert.Contains("117", e.Message);
    }

    /// <summary>Largest |cell count − budget/k²| ÷ (budget/k²) over a k × k partition of the domain.</summary>
    private static double Discrepancy(Lattice lattice, IEnumerable<LatticePoint> points, int k)
    {
        var counts = new int[k, k];
        int n = 0;
        foreach (var p in points)
        {
            var (u, v) = lattice.Fractions(p);
            counts[Math.Min(k - 1, (int)(u * k)), Math.Min(k - 1, (int)(v * k))]++;
            n++;
        }
        double expected = n / (double)(k * k);
        return counts.Cast<int>().Max(c => Math.Abs(c - expected)) / expected;
    }

    /// <summary>
    /// Space filling: on every one of 20 designs each cell of a 4 × 4 partition holds 16 ± 4 of the 256 points; a
    /// degenerate design (the first points in lattice order) and, on average, independent uniform draws miss that.
    /// </summary>
    [Fact]
    public void Random_spreads_its_points_evenly_over_the_domain()
    {
        const int budget = 256, k = 4;
        var worst = 0.0;
        var uniform = new List<double>();
        var draw = new Random(1);
        for (int d = 0; d < 20; d++)
        {
            var spec = Spec("random", $"refine: {{ max_depth: 4, budget: {budget} }}", seeds: "[0]", initial: "[5, 5]",
                name: $"design-{d}");
            var lattice = Lattice.For(spec);
            var points = RunAll(SweepPlanner.Create(spec), window: 64).Select(r => r.Point).ToList();
            double disc = Discrepancy(lattice, points, k);
            worst = Math.Max(worst, disc);
            Assert.True(disc <= 0.25, $"design-{d}: discrepancy {disc:F3}");
            // The first half of the design is already even: the proposal order fills the space.
            Assert.True(Discrepancy(lattice, points.Take(budget / 2), k) <= 0.25);
            var iid = new HashSet<LatticePoint>();
            while (iid.Count < budget) iid.Add(new LatticePoint(draw.Next(65), draw.Next(65)));
            uniform.Add(Discrepancy(lattice, iid, k));
            if (d == 0)
            {
                var lattice0 = Spec("grid", "refine: { max_depth: 4 }", initial: "[5, 5]");
                var naive = RunAll(SweepPlanner.Create(lattice0)).Select(r => r.Point).Distinct().Order().Take(budget);
                Assert.True(Discrepancy(lattice, naive, k) > 0.25);
            }
        }
        output.WriteLine($"worst discrepancy {worst:F3}; independent draws: mean {uniform.Average():F3}, "
            + $"max {uniform.Max():F3}");
        Assert.True(uniform.Average() > 0.25, "independent draws should not meet the bar on average");
    }
}
