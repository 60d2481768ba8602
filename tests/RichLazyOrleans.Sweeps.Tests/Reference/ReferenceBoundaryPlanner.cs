using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Sweeps.Tests.Reference;

// A verbatim copy of the planner before it scaled (src/RichLazyOrleans.Sweeps/BoundaryPlanner.cs at e62d415, names
// prefixed with Reference): the property tests hold the incremental planner to exactly its choices. Not shipped.


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
public sealed class ReferenceBoundaryPlanner : ISweepPlanner
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
    private readonly ReferenceMesh _mesh;
    private readonly IReadOnlyList<LatticePoint> _initial;
    private readonly List<PointState> _points = [];
    private readonly Dictionary<LatticePoint, PointState> _byPoint = [];
    private readonly Dictionary<int, PointState> _byVertex = [];
    private readonly Dictionary<int, PointState> _byOrder = [];
    private readonly List<PlannedRun> _proposed = [];
    private readonly SortedSet<int> _incomplete = [];   // orders of points that still need seeds
    private int _pending, _initialCursor;

    public ReferenceBoundaryPlanner(Lattice lattice, IReadOnlyList<long> seeds, AdaptiveSeeds? adaptive,
        RefineSpec? refine, PlannerOptions? options = null)
    {
        if (seeds.Count == 0) throw new ArgumentException("at least one seed");
        _lattice = lattice;
        _seedList = seeds;
        _adaptive = adaptive;
        _refine = refine;
        _options = options ?? new PlannerOptions();
        _mesh = ReferenceMesh.For(lattice);
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
        int corner = ReferenceMesh.Corners(_lattice).ToList().IndexOf(p);
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
        var splits = new ReferenceMeshSplits(_mesh, _byPoint.ContainsKey, _refine!.Threshold, _options.Variation);
        if (!explore && splits.BestCrossingEdge(simplices, values) is { } boundary)
            return new Choice(boundary, true, false);
        return splits.BestExploration(simplices, values) is { } e ? new Choice(e, true, true) : null;
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
            if (!ReferenceMeshSplits.Straddles(s, values, _refine!.Threshold)) continue;
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
