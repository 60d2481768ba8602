using RichLazyOrleans.Engine;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Grains;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Grains.Tests;

public class SweepPlanTests
{
    private static SweepSpec Spec(string seeds = "", int budget = 40) =>
        SweepSpec.Parse(SpecYaml(seeds, budget), KindCatalog.Kinds);

    private static string SpecYaml(string seeds = "", int budget = 40) => $$"""
        name: plan
        kind: synthetic
        params: { c0: 0.1, c1: 0.6, c2: -0.3, width: 0.05 }
        axes:
          tau:   { from: 0.1, to: 10.0, scale: log }
          delta: { from: -1.0, to: 1.0 }
        {{seeds}}
        grid:   { initial: [4, 4] }
        refine: { metric: value, threshold: 0.5, max_depth: 2, budget: {{budget}} }
        """;

    /// <summary>The synthetic field at a run's point (the truth the planner is told).</summary>
    private static double Value(RunRequest r)
    {
        var spec = System.Text.Json.Nodes.JsonNode.Parse(r.SpecJson)!;
        double x = Math.Log10(spec["tau"]!.GetValue<double>()), d = spec["delta"]!.GetValue<double>();
        return 1 / (1 + Math.Exp(-(x - 0.1 - 0.6 * d + 0.3 * d * d) / 0.05));
    }

    private static RunResult Result(RunRequest r, bool ok = true) =>
        new(r.RunId, ok, ok ? "ok" : "failed", ok ? Value(r) : null, 1, 0, ok ? null : "boom", "silo",
            RichLazyOrleans.Engine.RowBatch.Empty(r.RunId));

    private static SweepPlan Fresh(SweepSpec spec, List<ProposedRun> proposed) =>
        SweepPlan.Restore(new SweepRuns(spec, "/tmp/out"), proposed, new Dictionary<string, FinishedRun>(), []);

    [Fact]
    public void A_fresh_plan_hands_out_the_initial_lattice_and_records_every_proposal()
    {
        var proposed = new List<ProposedRun>();
        var plan = Fresh(Spec("seeds: [1, 2]"), proposed);
        var runs = plan.Take(6);
        Assert.Equal(6, runs.Count);
        Assert.Equal(["p0_0-s1", "p0_0-s2"], runs.Take(2).Select(r => r.RunId));   // a point's seeds together
        Assert.All(runs, r => Assert.Equal(0, r.Depth));
        Assert.Equal(runs.Select(r => new ProposedRun(r.LatticeI, r.LatticeJ, r.Seed)), proposed);
        Assert.Equal(3, plan.GridPoints);
        Assert.Equal(0, plan.Queued);
        Assert.False(plan.IsComplete);
        Assert.Empty(plan.Take(0));
    }

    [Fact]
    public void Runs_told_out_of_order_end_in_a_complete_sweep_within_budget_and_depth()
    {
        var proposed = new List<ProposedRun>();
        var plan = Fresh(Spec(budget: 40), proposed);
        var inFlight = new List<RunRequest>();
        int step = 0;
        while (!plan.IsComplete)
        {
            inFlight.AddRange(plan.Take(6 - inFlight.Count));
            Assert.NotEmpty(inFlight);   // never stuck: something is pending or proposed
            var done = inFlight[(step++ * 7) % inFlight.Count];   // results come back in a scrambled order
            inFlight.Remove(done);
            Assert.NotNull(plan.Tell(Result(done)));
            Assert.Null(plan.Tell(Result(done)));                // a repeated report is not told twice
        }
        Assert.Empty(inFlight);
        Assert.InRange(plan.GridPoints, 17, 40);
        Assert.Equal(2, plan.Depth);
        Assert.Equal(proposed.Count, plan.Done);
        Assert.Equal(proposed.Count, proposed.Distinct().Count());
    }

    [Theory]
    [InlineData(40)]   // refined
    [InlineData(0)]    // the initial lattice only
    public void An_ended_sweeps_status_after_reactivation_matches_the_live_one(int budget)
    {
        // A finished sweep's status comes from its saved state alone (Summary); after a reactivation it said
        // "depth 1/0". It must say what the live plan said.
        string yaml = budget > 0 ? SpecYaml(budget: budget)
            : SpecYaml().Replace("refine: { metric: value, threshold: 0.5, max_depth: 2, budget: 40 }", "");
        var spec = SweepSpec.Parse(yaml, KindCatalog.Kinds);
        var proposed = new List<ProposedRun>();
        var plan = Fresh(spec, proposed);
        while (!plan.IsComplete)
            foreach (var r in plan.Take(4)) plan.Tell(Result(r));
        var ended = SweepPlan.Summary(yaml, KindCatalog.Kinds, proposed);
        Assert.Equal((plan.GridPoints, plan.Depth, plan.MaxDepth), ended);
        Assert.True(ended.Depth <= ended.MaxDepth, $"depth {ended.Depth}/{ended.MaxDepth}");
    }

    [Fact]
    public void A_restored_plan_continues_as_the_original_would()
    {
        var spec = Spec();
        var proposed = new List<ProposedRun>();
        var finished = new Dictionary<string, FinishedRun>();
        var plan = Fresh(spec, proposed);
        for (int round = 0; round < 5; round++)
            foreach (var r in plan.Take(5))
            {
                var result = Result(r, ok: r.RunId != "p4_0-s0");
                finished[r.RunId] = plan.Tell(result)!;
            }
        var restored = SweepPlan.Restore(new SweepRuns(spec, "/tmp/out"), [.. proposed], finished, []);
        Assert.Equal((plan.GridPoints, plan.Depth, plan.Done, plan.Failed),
            (restored.GridPoints, restored.Depth, restored.Done, restored.Failed));
        Assert.Equal(1, restored.Failed);
        Assert.Equal(0, restored.Queued);
        Assert.Equal(plan.Take(8).Select(r => r.RunId), restored.Take(8).Select(r => r.RunId));
    }

    [Fact]
    public void Runs_finished_or_on_disk_but_missing_from_the_saved_proposals_are_appended_in_lattice_order()
    {
        var spec = Spec("seeds: [1, 2]");
        var proposed = new List<ProposedRun>();
        var plan = Fresh(spec, proposed);
        var runs = plan.Take(8);
        var saved = proposed.Take(2).ToList();   // the last save knew of the first two runs only
        var finished = new Dictionary<string, FinishedRun>
        {
            [runs[0].RunId] = plan.Tell(Result(runs[0]))!,
            [runs[5].RunId] = plan.Tell(Result(runs[5]))!,
        };
        // Rows on disk: run 7 (second seed of its point, so its first seed must come too) and one with a seed
        // this sweep does not have.
        var onDisk = new[] { new ProposedRun(runs[7].LatticeI, runs[7].LatticeJ, 2), new ProposedRun(1, 1, 99) };
        var warnings = new List<string>();

        var restored = SweepPlan.Restore(new SweepRuns(spec, "/tmp/out"), saved, finished, onDisk, warnings.Add);

        Assert.Single(warnings);
        Assert.Contains("s99", warnings[0]);
        // Appended: run 5's point (both seeds up to run 5's), run 7's point (seeds 1 and 2), sorted by point then seed.
        var appended = runs.Skip(4).Select(r => new ProposedRun(r.LatticeI, r.LatticeJ, r.Seed))
            .OrderBy(r => r.I).ThenBy(r => r.J).ThenBy(r => r.Seed);
        var expected = proposed.Take(2).Concat(appended).ToList();
        Assert.Equal(expected, saved);
        Assert.Equal(2, restored.Done);
        Assert.Equal(saved.Count - 2, restored.Queued);
        var next = restored.Take(saved.Count - 2).Select(r => r.RunId).ToHashSet();
        Assert.DoesNotContain(runs[0].RunId, next);   // finished: not run again
        Assert.DoesNotContain(runs[5].RunId, next);
        Assert.Contains(runs[7].RunId, next);         // rows on disk, not finished: run again (rows not rewritten)
    }

    /// <summary>
    /// A fixed design refuses runs it could not have proposed (here: rows an earlier boundary attempt left in the
    /// directory); the plan warns, leaves them out (the planner is never told of them) and goes on with its design.
    /// </summary>
    [Fact]
    public void A_random_plan_leaves_out_runs_outside_its_design_with_a_warning()
    {
        var spec = SweepSpec.Parse(SpecYaml().Replace("grid:", "planner: random\ngrid:"), KindCatalog.Kinds);
        var runs = new SweepRuns(spec, "/tmp/out");
        var design = ((RandomPlanner)SweepPlanner.Create(spec)).Design;
        var outside = runs.Lattice.InitialPoints().First(p => !design.Contains(p));
        var finished = new Dictionary<string, FinishedRun>
        {
            [runs.RunId(outside, 0)] = new(outside.I, outside.J, 0, true, 0.7, null),
        };
        var inside = new ProposedRun(design[3].I, design[3].J, 0);
        var proposed = new List<ProposedRun>();
        var warnings = new List<string>();

        var plan = SweepPlan.Restore(runs, proposed, finished, [inside], warnings.Add);

        Assert.Equal(runs.RunId(outside, 0), Assert.Single(warnings).Split(' ')[1]);
        Assert.Contains("planner 'random'", warnings[0]);
        Assert.Equal([inside], proposed);
        Assert.Equal((0, 0, 1), (plan.Done, plan.Failed, plan.Queued));
        Assert.Equal(new[] { design[3], design[0], design[1] }.Select(p => runs.RunId(p, 0)),
            plan.Take(3).Select(r => r.RunId));
        Assert.All(plan.Points(), p => Assert.Contains(p.Point, design));
    }

    [Fact]
    public void Cancelling_drops_what_waits_and_a_summary_needs_only_the_saved_proposals()
    {
        var spec = Spec();
        var proposed = new List<ProposedRun>();
        var plan = Fresh(spec, proposed);
        plan.Take(5);
        var restored = SweepPlan.Restore(new SweepRuns(spec, "/tmp/out"), [.. proposed],
            new Dictionary<string, FinishedRun>(), []);
        Assert.Equal(5, restored.Queued);
        restored.DropQueued();
        Assert.Equal(0, restored.Queued);
        Assert.Equal((5, 0, 2), SweepPlan.Summary(SpecYaml(), KindCatalog.Kinds, proposed));
        Assert.Equal((0, 0, 0), SweepPlan.Summary("", KindCatalog.Kinds, proposed));
        Assert.Equal((0, 0, 0), SweepPlan.Summary("name: x\nkind: nope\n", KindCatalog.Kinds, proposed));
    }
}
