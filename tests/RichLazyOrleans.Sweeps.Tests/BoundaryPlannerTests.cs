using RichLazyOrleans.Sweeps;
using RichLazyOrleans.Sweeps.Evaluation;
using Xunit.Abstractions;

namespace RichLazyOrleans.Sweeps.Tests;

public class BoundaryPlannerTests(ITestOutputHelper output)
{
    private static double Value(SyntheticField f, Lattice lattice, PlannedRun run, double noise)
    {
        var (u, v) = lattice.Fractions(run.Point);
        return f.At(u, v) + noise * SyntheticField.Noise(run.Seed, f.Tau(u), f.Delta(v));
    }

    /// <summary>
    /// A restored planner (rebuilt from the runs proposed and the results told) proposes exactly what the original
    /// proposes next, at any moment of a sweep driven with random window sizes and random finishing order.
    /// </summary>
    [Theory]
    [InlineData(1, "[0]", 0.0)]
    [InlineData(2, "[3, 5]", 0.0)]
    [InlineData(3, "{ min: 2, max: 8 }", 0.2)]
    [InlineData(4, "{ first: 10, min: 1, max: 4 }", 0.1)]
    public void A_restored_planner_proposes_the_same_runs(int seed, string seeds, double noise)
    {
        var r = new Random(seed);
        var field = SyntheticField.Open(r, 0.05);
        var spec = SamplerEvaluation.Spec(field, 4, 4, 60, seeds);
        var lattice = Lattice.For(spec);
        var planner = SweepPlanner.Create(spec);
        var inFlight = new List<PlannedRun>();
        var told = new List<(LatticePoint, long, double?)>();
        int checks = 0;
        while (true)
        {
            inFlight.AddRange(planner.Ask(r.Next(1, 6) - inFlight.Count is var n && n > 0 ? n : 0));
            if (inFlight.Count == 0) break;
            if (r.NextDouble() < 0.2)
            {
                var restored = SweepPlanner.Restore(spec, planner.Proposed.Select(p => (p.Point, p.Seed)), told);
                Assert.Equal(planner.Pending, restored.Pending);
                var expected = planner.Ask(3);
                Assert.Equal(expected, restored.Ask(3));
                inFlight.AddRange(expected);
                checks++;
            }
            var done = inFlight[r.Next(inFlight.Count)];
            inFlight.Remove(done);
            double? metric = r.NextDouble() < 0.03 ? null : Value(field, lattice, done, noise);   // a few failed runs
            planner.Tell(done.Point, done.Seed, metric);
            told.Add((done.Point, done.Seed, metric));
        }
        Assert.True(checks > 5);
        Assert.True(planner.IsComplete);
    }

    [Fact]
    public void Budget_depth_seeds_and_lattice_identity_are_honoured()
    {
        var field = SyntheticField.Open(new Random(5), 0.02);
        var spec = SamplerEvaluation.Spec(field, 5, 3, 90, "[7, 8]");
        var lattice = Lattice.For(spec);
        var planner = SweepPlanner.Create(spec);
        while (planner.Ask(4) is { Count: > 0 } runs)
            foreach (var run in runs) planner.Tell(run.Point, run.Seed, Value(field, lattice, run, 0));
        var points = planner.Points();
        Assert.Equal(90, points.Count);
        Assert.Equal(points.Count, points.Select(p => p.Point).Distinct().Count());
        Assert.All(points, p => Assert.Equal(2, p.Seeds));
        Assert.All(planner.Proposed, run => Assert.Equal(lattice.DepthOf(run.Point), run.Depth));
        Assert.All(planner.Proposed, run => Assert.InRange(run.Depth, 0, 3));
        Assert.Contains(planner.Proposed, run => run.Depth == 3);
        Assert.Equal(lattice.InitialPoints(), points.Take(25).Select(p => p.Point));   // the lattice first, in order
        Assert.Equal(Enumerable.Range(0, planner.Proposed.Count), planner.Proposed.Select(r => r.Order));
    }

    [Fact]
    public void Without_refine_the_sweep_is_the_initial_lattice_times_the_seeds()
    {
        var yaml = "name: s\nkind: synthetic\naxes: { tau: { from: 0.1, to: 2, scale: log } }\nseeds: [1, 2, 3]\n"
            + "grid: { initial: [7] }\n";
        var kinds = new Dictionary<string, KindInfo>
        {
            ["synthetic"] = new("synthetic", new Dictionary<string, (double, double)>(), new HashSet<string> { "tau" }),
        };
        var planner = SweepPlanner.Create(SweepSpec.Parse(yaml, kinds));
        var runs = planner.Ask(1000);
        Assert.Equal(21, runs.Count);
        Assert.Empty(planner.Ask(5));
        foreach (var run in runs) planner.Tell(run.Point, run.Seed, 1.0);
        Assert.True(planner.IsComplete);
    }

    [Fact]
    public void On_one_axis_the_crossing_is_bisected_down_to_the_lattice_resolution()
    {
        var yaml = "name: s\nkind: synthetic\naxes: { tau: { from: 0, to: 1 } }\ngrid: { initial: [5] }\n"
            + "refine: { metric: value, threshold: 0.5, max_depth: 6, budget: 40 }\n";
        var kinds = new Dictionary<string, KindInfo>
        {
            ["synthetic"] = new("synthetic", new Dictionary<string, (double, double)> { ["value"] = (0, 1) },
                new HashSet<string> { "tau" }),
        };
        var spec = SweepSpec.Parse(yaml, kinds);
        var lattice = Lattice.For(spec);
        var planner = SweepPlanner.Create(spec);
        const double edge = 0.3141;
        while (planner.Ask(2) is { Count: > 0 } runs)
            foreach (var run in runs) planner.Tell(run.Point, run.Seed, lattice.Fractions(run.Point).U >= edge ? 1 : 0);
        var below = planner.Points().Where(p => p.Mean < 0.5).Max(p => lattice.Fractions(p.Point).U);
        var above = planner.Points().Where(p => p.Mean >= 0.5).Min(p => lattice.Fractions(p.Point).U);
        Assert.Equal(1.0 / lattice.Extent[0], above - below, 12);   // neighbours on the finest lattice
        Assert.InRange(edge, below, above);
    }

    [Fact]
    public void Adaptive_seeds_go_where_the_side_is_uncertain_and_min_seeds_suffice_far_away()
    {
        var field = SyntheticField.Open(new Random(11), 0.05);
        var spec = SamplerEvaluation.Spec(field, 5, 4, 80, "{ min: 2, max: 16 }");
        var result = SamplerEvaluation.Adaptive(field, spec, noise: 0.2);
        var planner = SweepPlanner.Create(spec);
        var lattice = Lattice.For(spec);
        while (planner.Ask(4) is { Count: > 0 } runs)
            foreach (var run in runs) planner.Tell(run.Point, run.Seed, Value(field, lattice, run, 0.2));
        var points = planner.Points();
        Assert.All(points, p => Assert.InRange(p.Seeds, 2, 16));
        var far = points.Where(p => Math.Abs(p.Mean - 0.5) > 0.45).ToList();
        Assert.NotEmpty(far);
        Assert.All(far, p => Assert.Equal(2, p.Seeds));
        Assert.Contains(points, p => p.Seeds == 16);
        var near = points.Where(p => p.Seeds > 2).ToList();
        Assert.All(near, p => Assert.True(Math.Abs(p.Mean - 0.5) < 0.45,
            $"{p.Point}: mean {p.Mean} got {p.Seeds} seeds"));
        output.WriteLine($"{points.Count} points, {planner.Proposed.Count} runs, {near.Count} with extra seeds; "
            + $"error {result.Misclassified:E2}");
    }

    /// <summary>
    /// The bar at budget 150 on one field of each family (the bench command measures many): the adaptive
    /// points, linearly interpolated, misclassify no more area than a uniform grid with 4× as many points.
    /// </summary>
    [Theory]
    [InlineData("open")]
    [InlineData("hyperbola")]
    [InlineData("ellipse")]
    [InlineData("island")]
    public void At_budget_150_adaptive_beats_a_uniform_grid_with_four_times_the_points(string family)
    {
        var r = new Random(3);
        var field = family switch
        {
            "open" => SyntheticField.Open(r, 0.02),
            "hyperbola" => SyntheticField.Hyperbola(r, 0.02),
            "ellipse" => SyntheticField.RandomEllipse(r, 0.02),
            _ => SyntheticField.Island(r, 0.02),
        };
        var adaptive = SamplerEvaluation.Adaptive(field, SamplerEvaluation.Spec(field, 5, 5, 150));
        var uniform = SamplerEvaluation.Uniform(field, (int)Math.Round(Math.Sqrt(4 * 150.0)));
        output.WriteLine($"{family}: adaptive {adaptive.Misclassified:E2} ({adaptive.Points} points), "
            + $"uniform {uniform:E2}");
        Assert.Equal(150, adaptive.Points);
        Assert.True(adaptive.Misclassified <= uniform, $"{adaptive.Misclassified} > {uniform}");
    }
}

public class BoundaryPlannerRestoreTests
{
    [Fact]
    public void A_history_with_a_point_s_seeds_out_of_order_continues_with_the_missing_seed()
    {
        var field = SyntheticField.Open(new Random(2), 0.05);
        var spec = SamplerEvaluation.Spec(field, 3, 2, 20, "[10, 11, 12]");
        var corner = new LatticePoint(0, 0);
        var planner = SweepPlanner.Restore(spec, [(corner, 10), (corner, 12)], []);
        var next = planner.Ask(1).Single();
        Assert.Equal((corner, 11L), (next.Point, next.Seed));
        Assert.Equal(3, planner.Proposed.Select(r => r.Seed).Distinct().Count());
        Assert.Throws<ArgumentException>(() => SweepPlanner.Restore(spec, [(corner, 99)], []));
    }
}
