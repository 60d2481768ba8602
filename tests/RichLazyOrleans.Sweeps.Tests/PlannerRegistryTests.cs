using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Sweeps.Tests;

/// <summary>`planner:` in the sweep spec, the registry behind it, and restoring any planner through the
/// interface.</summary>
public class PlannerRegistryTests
{
    private const string Refine = "refine: { metric: value, threshold: 0.5, max_depth: 2, budget: 40 }";

    [Fact]
    public void The_default_planner_is_boundary()
    {
        var spec = SweepSpec.Parse(DesignPlannerTests.Yaml("boundary", Refine).Replace("planner: boundary\n", ""),
            SweepSpecTests.Kinds);
        Assert.Equal("boundary", spec.Planner);
        Assert.Equal(PlannerRegistry.Default, spec.Planner);
        Assert.IsType<BoundaryPlanner>(SweepPlanner.Create(spec));
        Assert.IsType<BoundaryPlanner>(SweepPlanner.Create(DesignPlannerTests.Spec("boundary", Refine)));
        Assert.IsType<GridPlanner>(SweepPlanner.Create(DesignPlannerTests.Spec("grid", "refine: { max_depth: 1 }")));
        Assert.IsType<RandomPlanner>(SweepPlanner.Create(DesignPlannerTests.Spec("random", Refine)));
        Assert.Equal(["boundary", "grid", "random"], PlannerRegistry.Names);
    }

    [Theory]
    [InlineData("adaptive")]
    [InlineData("Grid")]
    [InlineData("[grid]")]
    [InlineData("{ name: grid }")]
    [InlineData("''")]
    public void An_unknown_planner_is_refused_with_one_line_naming_the_key_and_the_known_planners(string name)
    {
        var e = Assert.Throws<SpecException>(() => DesignPlannerTests.Spec(name, Refine));
        Assert.StartsWith("key 'planner'", e.Message);
        Assert.Contains("(known: boundary, grid, random)", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void Metric_and_threshold_are_optional_for_a_fixed_design_only()
    {
        var grid = DesignPlannerTests.Spec("grid", "refine: { max_depth: 1 }");
        Assert.Null(grid.Refine!.Metric);
        Assert.Null(grid.Threshold);
        var labelled = DesignPlannerTests.Spec("random", Refine);
        Assert.Equal("value", labelled.Refine!.Metric);
        Assert.Equal(0.5, labelled.Threshold);
        Assert.Equal(40, labelled.Refine.Budget);
        Assert.StartsWith("key 'refine.threshold' needs 'refine.metric'", Assert.Throws<SpecException>(() =>
            DesignPlannerTests.Spec("grid", "refine: { threshold: 0.5, max_depth: 1 }")).Message);
        Assert.Contains("'refine.max_depth'", Assert.Throws<SpecException>(() =>
            DesignPlannerTests.Spec("random", "refine: { metric: value }")).Message);
        Assert.Contains("'refine.metric'", Assert.Throws<SpecException>(() =>
            DesignPlannerTests.Spec("boundary", "refine: { max_depth: 1, budget: 40 }")).Message);
        Assert.Contains("'refine.budget'", Assert.Throws<SpecException>(() =>
            DesignPlannerTests.Spec("boundary", "refine: { metric: value, threshold: 0.5, max_depth: 1 }")).Message);
        // Adaptive seeds need refine only where something decides on extra seeds.
        Assert.Equal(2, DesignPlannerTests.Spec("grid", "", seeds: "{ min: 2, max: 4 }").SeedRange!.Min);
        Assert.Contains("'seeds'", Assert.Throws<SpecException>(() =>
            DesignPlannerTests.Spec("boundary", "", seeds: "{ min: 2, max: 4 }")).Message);
    }

    private static double Truth(Lattice lattice, LatticePoint p, long seed)
    {
        var (u, v) = lattice.Fractions(p);
        double noise = ((seed * 7919 + p.I * 31 + p.J) % 97) / 97.0 - 0.5;
        return 1 / (1 + Math.Exp(-(u - 0.3 - 0.4 * v) / 0.05)) + 0.2 * noise;
    }

    /// <summary>
    /// For every planner: at random moments of a sweep driven with random window sizes, random finishing order and
    /// a few failed runs, a planner rebuilt through the interface from the proposals and results so far has the
    /// same pending count and proposes exactly the runs the original proposes next.
    /// </summary>
    [Theory]
    [InlineData("boundary", "[3, 5]", 1, 40)]
    [InlineData("boundary", "{ min: 2, max: 6 }", 2, 40)]
    [InlineData("grid", "[3, 5]", 3, 35)]
    [InlineData("grid", "{ first: 10, min: 2, max: 6 }", 4, 35)]
    [InlineData("random", "[3, 5]", 5, 40)]
    [InlineData("random", "{ min: 1, max: 4 }", 6, 40)]
    public void A_planner_restored_through_the_interface_proposes_the_same_runs(string name, string seeds, int seed,
        int points)
    {
        // The grid runs its whole lattice, 7 × 5 points at max_depth 1; the others stop at the budget.
        string refine = name == "grid" ? "refine: { metric: value, max_depth: 1 }" : Refine;
        for (int history = 0; history < 5; history++)
        {
            var r = new Random(seed * 100 + history);
            var spec = DesignPlannerTests.Spec(name, refine, seeds, name: $"restore-{history}");
            var lattice = Lattice.For(spec);
            var planner = SweepPlanner.Create(spec);
            var inFlight = new List<PlannedRun>();
            var told = new List<(LatticePoint, long, double?)>();
            int checks = 0;
            while (true)
            {
                inFlight.AddRange(planner.Ask(Math.Max(0, r.Next(1, 7) - inFlight.Count)));
                if (inFlight.Count == 0) break;
                if (r.NextDouble() < 0.15)
                {
                    var restored = SweepPlanner.Restore(spec, planner.Proposed.Select(p => (p.Point, p.Seed)), told);
                    Assert.Equal(planner.GetType(), restored.GetType());
                    Assert.Equal(planner.Pending, restored.Pending);
                    Assert.Equal(planner.Proposed, restored.Proposed);
                    Assert.Equal(planner.Points(), restored.Points());
                    var expected = planner.Ask(4);
                    Assert.Equal(expected, restored.Ask(4));
                    inFlight.AddRange(expected);
                    checks++;
                }
                var done = inFlight[r.Next(inFlight.Count)];
                inFlight.Remove(done);
                double? metric = r.NextDouble() < 0.05 ? null : Truth(lattice, done.Point, done.Seed);
                planner.Tell(done.Point, done.Seed, metric);
                told.Add((done.Point, done.Seed, metric));
            }
            Assert.True(checks >= 3, $"only {checks} checks");
            Assert.True(planner.IsComplete);
            Assert.Equal(points, planner.Points().Count);
        }
    }

    [Fact]
    public void Replaying_a_run_a_design_planner_could_not_have_proposed_is_refused()
    {
        var random = DesignPlannerTests.Spec("random", "refine: { max_depth: 3, budget: 5 }", seeds: "[3, 5]");
        var design = ((RandomPlanner)SweepPlanner.Create(random)).Design;
        var outside = Lattice.For(random).InitialPoints().Concat([new LatticePoint(1, 1)])
            .First(p => !design.Contains(p));
        Assert.Throws<ArgumentException>(() => SweepPlanner.Restore(random, [(outside, 3)], []));
        Assert.Throws<ArgumentException>(() => SweepPlanner.Restore(random, [(design[0], 4)], []));
        // Out of order is fine: the planner goes on with the design's first point not yet proposed.
        var restored = SweepPlanner.Restore(random, [(design[2], 5)], []);
        Assert.Equal([(design[2], 3L), (design[0], 3L), (design[0], 5L)],
            restored.Ask(3).Select(p => (p.Point, p.Seed)));

        var grid = DesignPlannerTests.Spec("grid", "refine: { max_depth: 1 }", seeds: "{ min: 2, max: 6 }");
        Assert.Throws<ArgumentException>(() => SweepPlanner.Restore(grid, [(new(0, 0), 2)], []));   // beyond min
        Assert.Throws<ArgumentException>(() => SweepPlanner.Restore(grid, [(new(7, 0), 0)], []));   // off the lattice
        Assert.Throws<ArgumentException>(() => SweepPlanner.Restore(grid, [(new(0, 0), 0)], [(new(1, 1), 0, 1.0)]));
        Assert.Equal(1, SweepPlanner.Restore(grid, [(new(1, 1), 1), (new(1, 1), 1)], []).Pending);   // once
    }
}
