using RichLazyOrleans.Sweeps.Evaluation;
using RichLazyOrleans.Sweeps.Tests.Reference;
using Xunit.Abstractions;

namespace RichLazyOrleans.Sweeps.Tests;

/// <summary>
/// The incremental planner against the one it replaced (tests/.../Reference, a verbatim copy): the same random
/// histories (fields on one and two axes, fixed and adaptive seeds, runs told in random order, failed runs, Ask(n)
/// with varied n, restores half-way) must give the same proposals, one by one, and the same point summaries.
/// </summary>
public class IncrementalPlannerTests(ITestOutputHelper output)
{
    /// <summary>One random sweep: lattice, seeds, refinement, options, and the metric of a run.</summary>
    private sealed record Case(Lattice Lattice, IReadOnlyList<long> Seeds, AdaptiveSeeds? Adaptive, RefineSpec? Refine,
        PlannerOptions? Options, Func<PlannedRun, double?> Metric, string Description)
    {
        public BoundaryPlanner New() => new(Lattice, Seeds, Adaptive, Refine, Options);
        public ReferenceBoundaryPlanner Old() => new(Lattice, Seeds, Adaptive, Refine, Options);
    }

    private static Case RandomCase(Random r, bool odd, int extra)
    {
        int dims = r.Next(2) + 1;
        int[] initial = dims == 1 ? [r.Next(2, 7)] : [r.Next(2, 6), r.Next(2, 6)];
        var lattice = new Lattice(initial, r.Next(1, 6));
        int initialCount = initial.Aggregate(1, (a, b) => a * b);
        var field = r.Next(4) switch
        {
            0 => SyntheticField.Open(r, 0.02 + 0.1 * r.NextDouble()),
            1 => SyntheticField.Hyperbola(r, 0.02 + 0.1 * r.NextDouble()),
            2 => SyntheticField.RandomEllipse(r, 0.02 + 0.1 * r.NextDouble()),
            _ => SyntheticField.Island(r, 0.02 + 0.1 * r.NextDouble(), Math.Max(2, initial[0])),
        };
        double noise = r.Next(3) == 0 ? 0 : 0.3 * r.NextDouble();
        // Coarse values make exact ties (equal values, values exactly at the threshold, equal scores).
        int shape = r.Next(4);   // 0: smooth, 1: a step (0/1), 2: quarters, 3: smooth
        double failures = r.Next(3) == 0 ? 0 : 0.15 * r.NextDouble();
        double? Metric(PlannedRun run)
        {
            var (u, v) = lattice.Fractions(run.Point);
            if (dims == 1) v = 0.37;
            double x = field.At(u, v) + noise * SyntheticField.Noise(run.Seed, field.Tau(u), field.Delta(v));
            x = shape switch { 1 => x >= 0.5 ? 1 : 0, 2 => Math.Round(x * 4) / 4, _ => x };
            // A failed run, or one with a metric the planner must leave out (not finite), hashed from the run so
            // that a restored history reports the same.
            int h = HashCode.Combine(run.Point, run.Seed) & 0xFFFF;
            if (h < failures * 0xFFFF) return h % 3 == 0 ? double.NaN : h % 3 == 1 ? null : double.PositiveInfinity;
            return x;
        }
        AdaptiveSeeds? adaptive = null;
        IReadOnlyList<long> seeds = [0];
        if (r.Next(2) == 0)
        {
            int min = r.Next(1, 3);
            adaptive = new AdaptiveSeeds(r.Next(3) * 10, min, min + r.Next(0, 6));
        }
        else seeds = Enumerable.Range(0, r.Next(1, 4)).Select(k => (long)(5 + 3 * k)).ToList();
        var refine = r.Next(12) == 0
            ? null
            : new RefineSpec("value", shape == 0 || shape == 3 ? 0.3 + 0.4 * r.NextDouble() : 0.5, lattice.MaxDepth,
                initialCount + r.Next(0, dims == 1 ? 40 : extra));
        PlannerOptions? options = !odd ? null : new PlannerOptions(r.Next(1, 12),
            r.Next(4) == 0 ? -0.5 : 20 * r.NextDouble(), r.Next(4) == 0 ? 0 : 0.5 + 2.5 * r.NextDouble(),
            r.Next(3) == 0 ? 0 : 8 * r.NextDouble());
        string description = $"{dims} axes {string.Join('x', initial)} depth {lattice.MaxDepth}, "
            + $"seeds {(adaptive is { } a ? $"{a.First}+{a.Min}..{a.Max}" : string.Join(',', seeds))}, "
            + $"budget {refine?.Budget}, shape {shape}, noise {noise:F2}, failures {failures:F2}, options {options}";
        return new Case(lattice, seeds, adaptive, refine, options, Metric, description);
    }

    /// <summary>Drives both planners through one random history; returns the number of runs proposed.</summary>
    private static int Compare(Case c, Random r)
    {
        ISweepPlanner old = c.Old(), now = c.New();
        var inFlight = new List<PlannedRun>();
        var told = new List<(LatticePoint, long, double?)>();
        bool restored = false;
        for (int step = 0; ; step++)
        {
            Assert.True(step < 100_000, "the sweep does not end");
            int n = r.Next(10) == 0 ? r.Next(5, 30) : r.Next(0, 4);
            var expected = old.Ask(n);
            Assert.Equal(expected, now.Ask(n));
            inFlight.AddRange(expected);
            Assert.Equal(old.Pending, now.Pending);
            if (r.Next(8) == 0) Assert.Equal(Summaries(old), Summaries(now));
            if (inFlight.Count == 0 && expected.Count == 0 && n > 0)
            {
                Assert.True(old.IsComplete);
                Assert.True(now.IsComplete);
                break;
            }
            // Tell some of the runs in flight, in random order (now and then one twice).
            int tells = inFlight.Count == 0 ? 0 : r.Next(0, Math.Min(inFlight.Count, 4) + 1);
            for (int k = 0; k < tells; k++)
            {
                var run = inFlight[r.Next(inFlight.Count)];
                inFlight.Remove(run);
                double? metric = c.Metric(run);
                foreach (var planner in new[] { old, now }) planner.Tell(run.Point, run.Seed, metric);
                told.Add((run.Point, run.Seed, metric));
                if (r.Next(20) == 0) foreach (var planner in new[] { old, now }) planner.Tell(run.Point, run.Seed, 7.0);
            }
            Assert.Equal(old.IsComplete, now.IsComplete);
            if (!restored && r.Next(40) == 0)
            {
                // Both rebuilt from the history so far (MarkProposed, then Tell), and on from there.
                (old, now) = (Restore(c.Old(), old, told), Restore(c.New(), now, told));
                restored = true;
            }
        }
        Assert.Equal(Summaries(old), Summaries(now));
        Assert.Equal(old.Proposed, now.Proposed);
        return now.Proposed.Count;
    }

    private static T Restore<T>(T fresh, ISweepPlanner from, List<(LatticePoint P, long Seed, double? Metric)> told)
        where T : ISweepPlanner
    {
        foreach (var run in from.Proposed)
            switch (fresh)
            {
                case BoundaryPlanner b: b.MarkProposed(run.Point, run.Seed); break;
                case ReferenceBoundaryPlanner o: o.MarkProposed(run.Point, run.Seed); break;
            }
        foreach (var (p, seed, metric) in told) fresh.Tell(p, seed, metric);
        return fresh;
    }

    /// <summary>The summaries with NaN made comparable (records compare doubles with Equals, so NaN equals NaN, but
    /// a list of them is compared element by element here, with the point named on failure).</summary>
    private static List<string> Summaries(ISweepPlanner p) =>
        p.Points().Select(s => $"{s.Point} d{s.Depth} o{s.Order} {s.Seeds}/{s.Proposed} "
            + $"{BitConverter.DoubleToInt64Bits(s.Mean):X} {BitConverter.DoubleToInt64Bits(s.StdError):X}").ToList();

    /// <summary>Histories in blocks of seeds: default options or odd ones (which also take the planner's slow paths:
    /// no prior weight, Z = 0, a negative variation), up to <paramref name="extra"/> points past the lattice on two
    /// axes (40 on one).</summary>
    [Theory]
    [InlineData(0, 200, false, 110)]
    [InlineData(1, 200, false, 110)]
    [InlineData(2, 150, true, 110)]
    [InlineData(3, 150, true, 110)]
    [InlineData(4, 30, false, 400)]
    public void The_incremental_planner_makes_the_reference_planner_s_choices(int block, int histories, bool odd,
        int extra)
    {
        int runs = 0;
        for (int k = 0; k < histories; k++)
        {
            int seed = 1000 * block + k;
            var c = RandomCase(new Random(seed), odd, extra);
            try
            {
                runs += Compare(c, new Random(seed + 1_000_000));
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"history {seed} ({c.Description}): {e.Message}");
            }
        }
        output.WriteLine($"{histories} histories, {runs} runs proposed, all the same");
    }
}
