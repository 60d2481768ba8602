namespace RichLazyOrleans.Sweeps;

/// <summary>Tuning of <see cref="BoundaryPlanner"/>; the defaults are what `bench sampler` measured.</summary>
/// <param name="ExploreEvery">Every k-th new point is spent away from the boundary, splitting the largest simplex
/// anywhere, so a region the lattice missed (an island, a second branch) is still found. Counted from the points
/// proposed so far (not from a counter of its own), so a restored planner makes the same choices.</param>
/// <param name="Variation">Exploration prefers simplices whose corner values spread:
/// size × (1 + Variation · spread).</param>
/// <param name="Z">A seed mean is on a known side of the threshold when
/// |mean − threshold| ≥ Z · standard error.</param>
/// <param name="PriorWeight">Weight, in seeds, of the sweep's pooled seed variance in a point's own variance
/// estimate (two seeds alone give a very rough spread).</param>
public sealed record PlannerOptions(int ExploreEvery = 10, double Variation = 10, double Z = 2.0,
    double PriorWeight = 4);

/// <summary>
/// The boundary-seeking planner. After the initial lattice, every new point bisects the longest mesh edge (of the
/// intervals or Delaunay triangles of the points so far) whose two ends lie on either side of the threshold, so the
/// boundary is resolved evenly along its length and finer as the budget allows; every
/// <see cref="PlannerOptions.ExploreEvery"/>-th new point instead splits the largest simplex anywhere (weighted
/// toward simplices whose values spread), so an island or a second branch the lattice missed is found. With
/// adaptive seeds, a point gets another seed while its seed mean is within Z standard errors of the threshold and
/// it is a corner of a straddling simplex. Points whose runs are still pending take the mean of their known
/// neighbours, so many runs can be proposed at once and no round ever waits for its slowest run.
/// </summary>
public sealed class BoundaryPlanner : ISweepPlanner
{
    private sealed class PointState(LatticePoint p, int depth, int order, int required)
    {
        public LatticePoint P { get; } = p;
        public int Depth { get; } = depth;
        public int Order { get; } = order;
        public int Required { get; set; } = required;
        public int Vertex { get; set; } = -1;
        public List<long> Seeds { get; } = [];
        public Dictionary<long, double?> Told { get; } = [];
        public IEnumerable<double> Values =>
            Told.Values.Where(v => v is { } x && double.IsFinite(x)).Select(v => v!.Value);
        public bool AllTold => Told.Count == Seeds.Count;
    }

    private readonly Lattice _lattice;
    private readonly IReadOnlyList<long> _seedList;
    private readonly AdaptiveSeeds? _adaptive;
    private readonly RefineSpec? _refine;
    private readonly PlannerOptions _options;
    private readonly Mesh _mesh;
    private readonly IReadOnlyList<LatticePoint> _initial;
    private readonly List<PointState> _points = [];
    private readonly Dictionary<LatticePoint, PointState> _byPoint = [];
    private readonly Dictionary<int, PointState> _byVertex = [];
    private readonly Dictionary<int, PointState> _byOrder = [];
    private readonly List<PlannedRun> _proposed = [];
    private readonly SortedSet<int> _incomplete = [];   // orders of points that still need seeds
    private int _pending, _initialCursor;

    public BoundaryPlanner(Lattice lattice, IReadOnlyList<long> seeds, AdaptiveSeeds? adaptive, RefineSpec? refine,
        PlannerOptions? options = null)
    {
        if (seeds.Count == 0) throw new ArgumentException("at least one seed");
        _lattice = lattice;
        _seedList = seeds;
        _adaptive = adaptive;
        _refine = refine;
        _options = options ?? new PlannerOptions();
        _mesh = Mesh.For(lattice);
        _initial = lattice.InitialPoints().ToList();
    }

    public IReadOnlyList<PlannedRun> Proposed => _proposed;
    public int Pending => _pending;
    public bool IsComplete => _pending == 0 && Next() is null;

    private int SeedsPerNewPoint => _adaptive?.Min ?? _seedList.Count;
    private int MaxSeeds => _adaptive?.Max ?? _seedList.Count;
    private long SeedAt(int k) => _adaptive is { } a ? a.First + k : _seedList[k];

    public IReadOnlyList<PlannedRun> Ask(int n)
    {
        var runs = new List<PlannedRun>();
        while (runs.Count < n && Next() is { } choice) runs.Add(Apply(choice));
        return runs;
    }

    public void Tell(LatticePoint point, long seed, double? metric)
    {
        if (!_byPoint.TryGetValue(point, out var s) || !s.Seeds.Contains(seed))
            throw new ArgumentException($"run {point} seed {seed} was never proposed");
        if (s.Told.ContainsKey(seed)) return;   // a repeated report
        s.Told[seed] = metric;
        _pending--;
    }

    /// <summary>Marks a run as proposed (replaying a saved history); it must be what <see cref="Ask"/> would give next
    /// for the restored planner to continue identically, but any proposed run is accepted.</summary>
    public void MarkProposed(LatticePoint point, long seed)
    {
        bool known = _adaptive is { } a ? seed >= a.First && seed < a.First + a.Max : _seedList.Contains(seed);
        if (!known) throw new ArgumentException($"seed {seed} is not one of the sweep's seeds");
        var s = _byPoint.GetValueOrDefault(point) ?? AddPoint(point);
        if (s.Seeds.Contains(seed)) return;
        s.Seeds.Add(seed);
        s.Required = Math.Max(s.Required, s.Seeds.Count);
        if (s.Seeds.Count >= s.Required) _incomplete.Remove(s.Order);
        _proposed.Add(new PlannedRun(point, seed, s.Depth, _proposed.Count));
        _pending++;
    }

    public IReadOnlyList<PointSummary> Points() => _points.Select(Summary).ToList();

    private PointSummary Summary(PointState s)
    {
        var (mean, se, n) = Stats(s);
        return new PointSummary(s.P, s.Depth, mean, se, n, s.Seeds.Count, s.Order);
    }

    /// <summary>What to do next: a seed for a known point, or a new point (with its first seed).</summary>
    private readonly record struct Choice(LatticePoint Point, bool NewPoint, bool Exploring);

    private PlannedRun Apply(Choice c)
    {
        var s = _byPoint.GetValueOrDefault(c.Point) ?? AddPoint(c.Point);
        if (s.Seeds.Count >= s.Required) s.Required++;   // an extra (adaptive) seed
        _incomplete.Add(s.Order);
        // The first seed this point has not had (a restored history may hold a point's seeds out of order).
        long seed = Enumerable.Range(0, MaxSeeds).Select(SeedAt).First(x => !s.Seeds.Contains(x));
        MarkProposed(c.Point, seed);
        return _proposed[^1];
    }

    private PointState AddPoint(LatticePoint p)
    {
        var s = new PointState(p, _lattice.DepthOf(p), _proposed.Count, SeedsPerNewPoint);
        _points.Add(s);
        _byPoint[p] = s;
        _byOrder[s.Order] = s;
        _incomplete.Add(s.Order);
        while (_initialCursor < _initial.Count && _byPoint.ContainsKey(_initial[_initialCursor])) _initialCursor++;
        if (_refine is null) return s;   // no refinement: no mesh needed (a plain lattice may be huge)
        int corner = Mesh.Corners(_lattice).ToList().IndexOf(p);
        s.Vertex = corner >= 0 ? corner : _mesh.Insert(p);
        _byVertex[s.Vertex] = s;
        return s;
    }

    private Choice? Next()
    {
        // 1. Seeds a proposed point still needs (its minimum, or every listed seed).
        if (_incomplete.Count > 0) return new Choice(_byOrder[_incomplete.Min].P, false, false);
        // 2. The initial lattice.
        if (_initialCursor < _initial.Count) return new Choice(_initial[_initialCursor], true, false);
        if (_refine is null) return null;
        var values = VertexValues();
        var simplices = _mesh.Simplices().ToList();
        // 3. Another seed where the side of a corner of a straddling simplex is still uncertain.
        if (_adaptive is not null && SeedCandidate(simplices, values) is { } seedChoice) return seedChoice;
        // 4. A new point, within the budget.
        if (_points.Count >= _refine.Budget) return null;
        return NewPoint(simplices, values);
    }

    private Choice? NewPoint(List<int[]> simplices, double[] values)
    {
        int newPoints = _points.Count - _initial.Count;
        bool explore = newPoints % _options.ExploreEvery == _options.ExploreEvery - 1;
        Choice? boundary = explore ? null : BestCrossingEdge(simplices, values);
        if (boundary is not null) return boundary;
        return BestExploration(simplices, values) is { } e ? e with { Exploring = true } : null;
    }

    /// <summary>
    /// The midpoint of the longest edge of the simplex with the largest size × (1 + Variation · spread), spread being
    /// the range of its corner values over the range of all values: flat regions are split evenly, and a region whose
    /// values rise toward the threshold (the tail of an island the lattice missed) first.
    /// </summary>
    private Choice? BestExploration(List<int[]> simplices, double[] values)
    {
        var known = values.Where(x => !double.IsNaN(x)).ToList();
        double range = known.Count > 1 ? known.Max() - known.Min() : 0;
        double bestScore = -1;
        LatticePoint best = default;
        foreach (var s in simplices)
        {
            var (a, b, len) = LongestEdge(s);
            double lo = s.Min(v => values[v]), hi = s.Max(v => values[v]);
            double spread = range > 0 && !double.IsNaN(lo) && !double.IsNaN(hi) ? (hi - lo) / range : 0;
            double score = len * (1 + _options.Variation * spread);
            if (score < bestScore || Midpoint(a, b) is not { } m) continue;
            if (score > bestScore || m.CompareTo(best) < 0) { bestScore = score; best = m; }
        }
        return bestScore < 0 ? null : new Choice(best, true, false);
    }

    /// <summary>
    /// The midpoint of the longest crossing edge (ends on either side of the threshold) of the straddling simplex with
    /// the largest score: its area (length on one axis), since the misclassified area lies inside straddling simplices.
    /// </summary>
    private Choice? BestCrossingEdge(List<int[]> simplices, double[] values)
    {
        double bestScore = -1;
        LatticePoint best = default;
        double t = _refine!.Threshold;
        foreach (var s in simplices)
        {
            long edgeLen = -1;
            LatticePoint? mid = null;
            for (int k = 0; k < s.Length; k++)
            {
                if (s.Length == 2 && k == 1) break;
                int va = s[k], vb = s[(k + 1) % s.Length];
                if (double.IsNaN(values[va]) || double.IsNaN(values[vb])
                    || (values[va] >= t) == (values[vb] >= t)) continue;
                var (a, b) = (_mesh[va], _mesh[vb]);
                long di = a.I - b.I, dj = a.J - b.J, len = di * di + dj * dj;
                if (len <= edgeLen || Midpoint(a, b) is not { } m) continue;
                edgeLen = len;
                mid = m;
            }
            if (mid is not { } mp) continue;
            double score = Size(s);
            if (score < bestScore) continue;
            if (score > bestScore || mp.CompareTo(best) < 0) { bestScore = score; best = mp; }
        }
        return bestScore < 0 ? null : new Choice(best, true, false);
    }

    /// <summary>Area of a triangle, length of an interval (lattice units).</summary>
    private double Size(int[] s)
    {
        if (s.Length == 2) return Math.Abs(_mesh[s[1]].I - _mesh[s[0]].I);
        var (a, b, c) = (_mesh[s[0]], _mesh[s[1]], _mesh[s[2]]);
        return Math.Abs((double)(b.I - a.I) * (c.J - a.J) - (double)(b.J - a.J) * (c.I - a.I)) / 2;
    }

    private bool Straddles(int[] s, double[] values)
    {
        bool any = false, above = false, below = false;
        foreach (int v in s)
        {
            double x = values[v];
            if (double.IsNaN(x)) return false;
            any = true;
            if (x >= _refine!.Threshold) above = true; else below = true;
        }
        return any && above && below;
    }

    private (LatticePoint A, LatticePoint B, long Len2) LongestEdge(int[] s)
    {
        (LatticePoint, LatticePoint, long) best = default;
        best.Item3 = -1;
        for (int k = 0; k < s.Length; k++)
        {
            var a = _mesh[s[k]];
            var b = _mesh[s[(k + 1) % s.Length]];
            if (s.Length == 2 && k == 1) break;
            long di = a.I - b.I, dj = a.J - b.J, len = di * di + dj * dj;
            var (lo, hi) = a.CompareTo(b) < 0 ? (a, b) : (b, a);
            if (len > best.Item3 || (len == best.Item3 && (lo, hi).CompareTo((best.Item1, best.Item2)) < 0))
                best = (lo, hi, len);
        }
        return best;
    }

    /// <summary>The lattice point halfway along an edge (rounded where the edge's ends differ by an odd amount),
    /// if new.</summary>
    private LatticePoint? Midpoint(LatticePoint a, LatticePoint b)
    {
        int si = a.I + b.I, sj = a.J + b.J;
        foreach (var (di, dj) in new[] { (0, 0), (1, 0), (0, 1), (1, 1) })
        {
            var m = new LatticePoint((si + di) >> 1, (sj + dj) >> 1);
            if (m != a && m != b && !_byPoint.ContainsKey(m)) return m;
            if ((si & 1) == 0 && (sj & 1) == 0) break;   // the exact midpoint exists already: nothing to split
        }
        return null;
    }

    /// <summary>Seed means of the vertices; a vertex without values yet takes the mean of its known
    /// neighbours.</summary>
    private double[] VertexValues()
    {
        var values = new double[_mesh.Count];
        var neighbours = new List<int>[_mesh.Count];
        for (int v = 0; v < values.Length; v++)
        {
            var s = _byVertex.GetValueOrDefault(v);
            values[v] = s is null ? double.NaN : Stats(s).Mean;
        }
        foreach (var s in _mesh.Simplices())
            foreach (int a in s)
                foreach (int b in s)
                    if (a != b) (neighbours[a] ??= []).Add(b);
        var estimated = (double[])values.Clone();
        for (int v = 0; v < values.Length; v++)
        {
            if (!double.IsNaN(values[v]) || neighbours[v] is null) continue;
            var known = neighbours[v].Distinct().Select(u => values[u]).Where(x => !double.IsNaN(x)).ToList();
            if (known.Count > 0) estimated[v] = known.Average();
        }
        return estimated;
    }

    private Choice? SeedCandidate(List<int[]> simplices, double[] values)
    {
        double pooled = PooledVariance();
        PointState? best = null;
        double bestScore = 0;
        var seen = new HashSet<int>();
        foreach (var s in simplices)
        {
            if (!Straddles(s, values)) continue;
            foreach (int v in s)
            {
                if (!seen.Add(v) || _byVertex.GetValueOrDefault(v) is not { } p) continue;
                if (p.Seeds.Count >= MaxSeeds || !p.AllTold) continue;
                var (mean, _, n) = Stats(p);
                if (n == 0) continue;
                double se = Math.Sqrt(ShrunkVariance(p, pooled) / n);
                double margin = Math.Abs(mean - _refine!.Threshold);
                if (margin >= _options.Z * se) continue;
                double score = se / Math.Max(margin, 1e-12);   // least certain side first
                if (best is null || score > bestScore
                    || (score == bestScore && p.P.CompareTo(best.P) < 0)) { best = p; bestScore = score; }
            }
        }
        return best is null ? null : new Choice(best.P, false, false);
    }

    private static (double Mean, double StdError, int N) Stats(PointState s)
    {
        var xs = s.Values.ToList();
        if (xs.Count == 0) return (double.NaN, double.NaN, 0);
        double mean = xs.Average();
        if (xs.Count < 2) return (mean, double.NaN, 1);
        double var = xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1);
        return (mean, Math.Sqrt(var / xs.Count), xs.Count);
    }

    /// <summary>Seed variance pooled over every point with two or more values (0 when there are none).</summary>
    private double PooledVariance()
    {
        double ss = 0;
        int dof = 0;
        foreach (var s in _points)
        {
            var xs = s.Values.ToList();
            if (xs.Count < 2) continue;
            double m = xs.Average();
            ss += xs.Sum(x => (x - m) * (x - m));
            dof += xs.Count - 1;
        }
        return dof == 0 ? 0 : ss / dof;
    }

    /// <summary>A point's seed variance shrunk toward the pooled one (PriorWeight seeds' worth of it).</summary>
    private double ShrunkVariance(PointState s, double pooled)
    {
        var xs = s.Values.ToList();
        double m = xs.Average();
        double own = xs.Sum(x => (x - m) * (x - m));
        double k = _options.PriorWeight;
        return (k * pooled + own) / (k + xs.Count - 1);
    }
}
