namespace RichLazyOrleans.Sweeps.Evaluation;

/// <summary>The outcome of sampling one field: misclassified area of the linear interpolant, points and runs
/// used.</summary>
public sealed record SamplingResult(double Misclassified, int Points, int Runs, PhaseEstimate Estimate);

/// <summary>
/// Measures how well a planner maps a known field (`richlazy bench sampler` and the tests): the planner is driven as
/// the coordinator drives it (a window of runs in flight, the oldest finishing first), and the result is judged the
/// way a user would judge the points: plain linear interpolation of the seed means (<see cref="PhaseEstimate"/>) on a
/// 300 × 300 evaluation grid, against the noise-free truth.
/// </summary>
public static class SamplerEvaluation
{
    public const int EvaluationGrid = 300;

    /// <summary>Runs a sweep of <paramref name="field"/> through the planner; <paramref name="noise"/> adds
    /// noise·N(0,1) per seed.</summary>
    public static SamplingResult Adaptive(SyntheticField field, SweepSpec spec, double noise = 0, int inFlight = 4,
        PlannerOptions? options = null, double threshold = 0.5)
    {
        var planner = SweepPlanner.Create(spec, options);
        var lattice = Lattice.For(spec);
        var window = new Queue<PlannedRun>();
        while (true)
        {
            foreach (var run in planner.Ask(inFlight - window.Count)) window.Enqueue(run);
            if (window.Count == 0) break;
            var done = window.Dequeue();
            var (u, v) = lattice.Fractions(done.Point);
            double value = field.At(u, v) + noise * SyntheticField.Noise(done.Seed, field.Tau(u), field.Delta(v));
            planner.Tell(done.Point, done.Seed, value);
        }
        var means = planner.Points().Where(p => p.Seeds > 0).ToDictionary(p => p.Point, p => p.Mean);
        var estimate = new PhaseEstimate(lattice, means);
        return new SamplingResult(Misclassified(field, estimate.Raster(EvaluationGrid), threshold), means.Count,
            planner.Proposed.Count, estimate);
    }

    /// <summary>
    /// A uniform k × k grid with <paramref name="seeds"/> seeds per point (seeds firstSeed, firstSeed + 1, …),
    /// bilinearly interpolated (linear interpolation on a grid, as scipy's RegularGridInterpolator does).
    /// </summary>
    public static double Uniform(SyntheticField field, int k, int seeds = 1, double noise = 0, double threshold = 0.5,
        long firstSeed = 0)
    {
        var node = new double[k, k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                double u = i / (k - 1.0), v = j / (k - 1.0), sum = 0;
                for (long s = firstSeed; s < firstSeed + seeds; s++)
                    sum += field.At(u, v) + noise * SyntheticField.Noise(s, field.Tau(u), field.Delta(v));
                node[i, j] = sum / seeds;
            }
        int m = EvaluationGrid;
        var raster = new double[m, m];
        for (int a = 0; a < m; a++)
            for (int b = 0; b < m; b++)
            {
                double x = (a + 0.5) / m * (k - 1), y = (b + 0.5) / m * (k - 1);
                int i = Math.Min((int)x, k - 2), j = Math.Min((int)y, k - 2);
                double fx = x - i, fy = y - j;
                raster[a, b] = (1 - fx) * (1 - fy) * node[i, j] + fx * (1 - fy) * node[i + 1, j]
                    + (1 - fx) * fy * node[i, j + 1] + fx * fy * node[i + 1, j + 1];
            }
        return Misclassified(field, raster, threshold);
    }
    /// <summary>Share of the evaluation grid's cells on the wrong side of the threshold (an unknown estimate counts
    /// as wrong).</summary>
    public static double Misclassified(SyntheticField field, double[,] raster, double threshold = 0.5)
    {
        var truth = Truth(field, raster.GetLength(0), threshold);
        int m = raster.GetLength(0), mv = raster.GetLength(1), wrong = 0;
        if (mv != m) throw new ArgumentException("a two-axis (square) raster");
        for (int a = 0; a < m; a++)
            for (int b = 0; b < mv; b++)
            {
                double e = raster[a, b];
                if (double.IsNaN(e) || (e >= threshold) != truth[a, b]) wrong++;
            }
        return wrong / (double)(m * mv);
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SyntheticField, bool[,]> TruthCache =
        new();

    /// <summary>Which side of the threshold the noise-free field is on at the cell centres (cached per
    /// field).</summary>
    private static bool[,] Truth(SyntheticField field, int m, double threshold)
    {
        lock (TruthCache)
        {
            if (TruthCache.TryGetValue(field, out var t) && t.GetLength(0) == m) return t;
            t = new bool[m, m];
            for (int a = 0; a < m; a++)
                for (int b = 0; b < m; b++) t[a, b] = field.At((a + 0.5) / m, (b + 0.5) / m) >= threshold;
            TruthCache.AddOrUpdate(field, t);
            return t;
        }
    }

    /// <summary>
    /// The smallest uniform k × k grid (k from 2 up to <paramref name="maxK"/>) that misclassifies no more than
    /// <paramref name="target"/>; null when none does.
    /// </summary>
    public static int? EquivalentUniform(SyntheticField field, double target, int maxK = 160, int seeds = 1,
        double noise = 0)
    {
        for (int k = 2; k <= maxK; k++)
            if (Uniform(field, k, seeds, noise) <= target) return k;
        return null;
    }

    /// <summary>The spec of an adaptive synthetic sweep of this domain (for the planner; never run by a silo
    /// here).</summary>
    public static SweepSpec Spec(SyntheticField f, int initial, int maxDepth, int budget, string seeds = "[0]")
    {
        string yaml =
            (FormattableString.Invariant($"name: bench\nkind: synthetic\nparams: {{ c0: 0, c1: 0, c2: 0, width: 1 }}\n")
            + FormattableString.Invariant($"axes:\n  tau: {{ from: {f.TauFrom}, to: {f.TauTo}, scale: log }}\n")
            + FormattableString.Invariant($"  delta: {{ from: {f.DeltaFrom}, to: {f.DeltaTo} }}\n")
            + FormattableString.Invariant($"seeds: {seeds}\ngrid: {{ initial: [{initial}, {initial}] }}\n")
            + FormattableString.Invariant($"refine: {{ metric: value, threshold: 0.5, max_depth: {maxDepth}, ")
            + FormattableString.Invariant($"budget: {budget} }}\n"));
        var kinds = new Dictionary<string, KindInfo>
        {
            ["synthetic"] = new("synthetic",
                new Dictionary<string, (double, double)>
                {
                    ["value"] = (double.NegativeInfinity, double.PositiveInfinity)
                },
                new HashSet<string> { "tau", "delta" }),
        };
        return SweepSpec.Parse(yaml, kinds);
    }
}
