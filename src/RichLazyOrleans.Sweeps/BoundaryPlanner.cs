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
/// neighbours, so many runs can be proposed at once and no round ever waits for its slowest run. The mesh, the
/// vertex values and the candidates are updated only where a point changed them (<see cref="PlannerIndex"/>), so a
/// proposal costs about the logarithm of the sweep's size; the choices are exactly those of the full scans in
/// <see cref="MeshSplits"/> (property-tested against the planner that made them).
/// </summary>
public sealed class BoundaryPlanner : ISweepPlanner
{
    private readonly Lattice _lattice;
    private readonly IReadOnlyList<long> _seedList;
    private readonly AdaptiveSeeds? _adaptive;
    private readonly RefineSpec? _refine;
    private readonly PlannerOptions _options;
    private readonly Mesh _mesh;
    private readonly IReadOnlyList<LatticePoint> _initial;
    private readonly List<LatticePoint> _corners;
    private readonly List<PlannerPoint> _points = [];
    private readonly Dictionary<LatticePoint, PlannerPoint> _byPoint = [];
    private readonly Dictionary<int, PlannerPoint> _byOrder = [];
    private readonly List<PlannedRun> _proposed = [];
    private readonly SortedSet<int> _incomplete = [];   // orders of points that still need seeds
    private readonly PlannerIndex? _index;   // none without refinement: no mesh needed (a plain lattice may be huge)
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
        _corners = Mesh.Corners(lattice).ToList();
        if (refine is not null)
            _index = new PlannerIndex(_mesh, _points, _byPoint.ContainsKey, refine.Threshold, _options, MaxSeeds);
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
        bool valueAdded = s.Tell(seed, metric);
        _index?.Told(s, valueAdded);
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
        _index?.Proposed(s);
    }

    public IReadOnlyList<PointSummary> Points() => _points.Select(Summary).ToList();

    private static PointSummary Summary(PlannerPoint s)
    {
        var (mean, se, n) = s.Stats;
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

    private PlannerPoint AddPoint(LatticePoint p)
    {
        var s = new PlannerPoint(p, _lattice.DepthOf(p), _proposed.Count, _points.Count, SeedsPerNewPoint);
        _points.Add(s);
        _byPoint[p] = s;
        _byOrder[s.Order] = s;
        _incomplete.Add(s.Order);
        while (_initialCursor < _initial.Count && _byPoint.ContainsKey(_initial[_initialCursor])) _initialCursor++;
        if (_index is null) return s;
        int corner = _corners.IndexOf(p);
        s.Vertex = corner >= 0 ? corner : _mesh.Insert(p);
        _index.Added(s, inserted: corner < 0);
        return s;
    }

    private Choice? Next()
    {
        // 1. Seeds a proposed point still needs (its minimum, or every listed seed).
        if (_incomplete.Count > 0) return new Choice(_byOrder[_incomplete.Min].P, false, false);
        // 2. The initial lattice.
        if (_initialCursor < _initial.Count) return new Choice(_initial[_initialCursor], true, false);
        if (_index is null) return null;
        // 3. Another seed where the side of a corner of a straddling simplex is still uncertain.
        if (_adaptive is not null && _index.SeedCandidate() is { } seedPoint)
            return new Choice(seedPoint, false, false);
        // 4. A new point, within the budget.
        if (_points.Count >= _refine!.Budget) return null;
        int newPoints = _points.Count - _initial.Count;
        bool explore = newPoints % _options.ExploreEvery == _options.ExploreEvery - 1;
        if (!explore && _index.BestCrossing() is { } boundary) return new Choice(boundary, true, false);
        return _index.BestExploration() is { } e ? new Choice(e, true, true) : null;
    }
}
