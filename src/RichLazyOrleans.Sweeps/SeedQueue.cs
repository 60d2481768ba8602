namespace RichLazyOrleans.Sweeps;

/// <summary>
/// Where an adaptive sweep's next extra seed goes: among the corners of straddling simplices that could take one,
/// the point whose side is least certain (standard error over distance to the threshold), if any is uncertain
/// (distance below Z standard errors). The standard errors move with the pooled seed variance, which changes on
/// almost every report, so the points are kept sorted by their score at a pooled variance a little above the
/// present one (an upper bound, since the score grows with it; resorted when the variance leaves the band), and a
/// query computes exact scores from the top down until no key below can win or even pass.
/// </summary>
internal sealed class SeedQueue(PlannerOptions options, double threshold)
{
    private readonly record struct Entry(double Key, LatticePoint P, int Vertex);

    private sealed class ByKey : IComparer<Entry>
    {
        public int Compare(Entry x, Entry y)
        {
            int c = y.Key.CompareTo(x.Key);
            return c != 0 ? c : x.P.CompareTo(y.P);
        }
    }

    private const double Tiny = 1e-12;   // the smallest distance a score divides by
    private readonly SortedSet<Entry> _sorted = new(new ByKey());
    private readonly Dictionary<int, (Entry Entry, PlannerPoint Point)> _members = [];
    // Points a query always computes: within Tiny of the threshold (their score is not bounded by the Z test) or with
    // an infinite key.
    private readonly HashSet<int> _always = [];
    private double _high = double.NaN;   // the pooled variance the keys were made at (NaN: none yet)

    /// <summary>Whether <see cref="Best"/> can answer (otherwise <see cref="Scan"/>): the bounds need a positive
    /// prior weight, a positive Z and a finite pooled variance.</summary>
    public bool Answers(double pooled) =>
        options.PriorWeight > 0 && double.IsFinite(options.PriorWeight) && options.Z > 0
        && double.IsFinite(1 / options.Z) && double.IsFinite(pooled) && pooled >= 0;

    /// <summary>Sets whether a vertex's point could take another seed (null: it cannot).</summary>
    public void Set(int vertex, PlannerPoint? p)
    {
        if (_members.Remove(vertex, out var old))
        {
            _sorted.Remove(old.Entry);
            _always.Remove(vertex);
        }
        if (p is null) return;
        var entry = new Entry(double.IsNaN(_high) ? 0 : Score(p, _high), p.P, vertex);
        _members[vertex] = (entry, p);
        if (!double.IsNaN(_high)) Place(vertex, entry, p);
    }

    public LatticePoint? Best(double pooled)
    {
        if (double.IsNaN(_high) || pooled > _high || pooled < _high / 1.1) Rekey(pooled * 1.05);
        double floor = 1 / options.Z * (1 - 1e-9);   // a key below it cannot pass the Z test (see below)
        PlannerPoint? best = null;
        double bestScore = 0;
        void Consider(PlannerPoint p)
        {
            var (mean, _, n) = p.Stats;
            double se = StdError(p, pooled, n), margin = Math.Abs(mean - threshold);
            if (margin >= options.Z * se) return;
            double score = se / Math.Max(margin, Tiny);
            if (best is null || score > bestScore || (score == bestScore && p.P.CompareTo(best.P) < 0))
                (best, bestScore) = (p, score);
        }
        // key = fl(se(high) / margin) < floor implies margin > fl(Z · se(high)) ≥ fl(Z · se): the point fails.
        foreach (var e in _sorted)
        {
            if (e.Key < floor) break;
            if (best is not null && (e.Key < bestScore || (e.Key == bestScore && e.P.CompareTo(best.P) >= 0))) break;
            Consider(_members[e.Vertex].Point);
        }
        foreach (int v in _always) Consider(_members[v].Point);
        return best?.P;
    }

    /// <summary>The same choice by a scan of every straddling simplex in the mesh's order, for what
    /// <see cref="Best"/> cannot bound (a NaN score then wins or not by that order, as it always did).</summary>
    public LatticePoint? Scan(IEnumerable<int[]> simplices, double[] values, Func<int, PlannerPoint?> pointAt,
        int maxSeeds, double pooled)
    {
        PlannerPoint? best = null;
        double bestScore = 0;
        var seen = new HashSet<int>();
        foreach (var s in simplices)
        {
            if (!MeshSplits.Straddles(s, values, threshold)) continue;
            foreach (int v in s)
            {
                if (!seen.Add(v) || pointAt(v) is not { } p) continue;
                if (p.Seeds.Count >= maxSeeds || !p.AllTold) continue;
                var (mean, _, n) = p.Stats;
                if (n == 0) continue;
                double se = StdError(p, pooled, n), margin = Math.Abs(mean - threshold);
                if (margin >= options.Z * se) continue;
                double score = se / Math.Max(margin, Tiny);
                if (best is null || score > bestScore
                    || (score == bestScore && p.P.CompareTo(best.P) < 0)) { best = p; bestScore = score; }
            }
        }
        return best?.P;
    }

    /// <summary>The standard error of a point's mean with its seed variance shrunk toward the pooled one
    /// (PriorWeight seeds' worth of it).</summary>
    private double StdError(PlannerPoint p, double pooled, int n)
    {
        double k = options.PriorWeight;
        double shrunk = (k * pooled + p.Own) / (k + n - 1);
        return Math.Sqrt(shrunk / n);
    }

    private double Score(PlannerPoint p, double pooled) =>
        StdError(p, pooled, p.Stats.N) / Math.Max(Math.Abs(p.Stats.Mean - threshold), Tiny);

    private void Place(int vertex, Entry entry, PlannerPoint p)
    {
        if (Math.Abs(p.Stats.Mean - threshold) < Tiny || !double.IsFinite(entry.Key)) _always.Add(vertex);
        else _sorted.Add(entry);
    }

    private void Rekey(double high)
    {
        _high = high;
        _sorted.Clear();
        _always.Clear();
        foreach (var (v, (entry, p)) in _members.ToList())
        {
            var e = entry with { Key = Score(p, high) };
            _members[v] = (e, p);
            Place(v, e, p);
        }
    }
}
