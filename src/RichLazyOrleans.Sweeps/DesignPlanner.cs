namespace RichLazyOrleans.Sweeps;

/// <summary>
/// A planner whose points are fixed by the spec before any result comes back (a design, as opposed to
/// <see cref="BoundaryPlanner"/>, which chooses from the results): it proposes the design's points in order, each
/// with every seed of the seed list (adaptive seeds: the first `min`, since without a threshold there is nothing to
/// be unsure about), a point's seeds before the next point. Results only fill in the points' summaries. A subclass
/// gives the design; this class keeps the books, so restoring, summaries and completion behave the same for all.
/// </summary>
public abstract class DesignPlanner : ISweepPlanner
{
    private sealed class PointState(LatticePoint p, int depth, int order, int index)
    {
        public LatticePoint P { get; } = p;
        public int Index { get; } = index;   // in _points
        public int Depth { get; } = depth;
        public int Order { get; } = order;
        public List<long> Seeds { get; } = [];
        public Dictionary<long, double?> Told { get; } = [];
    }

    private readonly IReadOnlyList<long> _seeds;
    private readonly List<PointState> _points = [];
    private readonly Dictionary<LatticePoint, PointState> _byPoint = [];
    private readonly List<PlannedRun> _proposed = [];
    private readonly SortedSet<int> _incomplete = [];   // indices into _points of points still short of seeds
    private IReadOnlyList<LatticePoint>? _design;
    private HashSet<LatticePoint>? _inDesign;
    private int _cursor, _pending;

    protected DesignPlanner(SweepSpec spec)
    {
        Spec = spec;
        Lattice = Lattice.For(spec);
        _seeds = spec.SeedRange is { } a ? [.. Enumerable.Range(0, a.Min).Select(k => a.First + k)] : spec.Seeds;
        if (_seeds.Count == 0) throw new ArgumentException("at least one seed");
    }

    protected SweepSpec Spec { get; }
    protected Lattice Lattice { get; }

    /// <summary>The planner's name in the registry (for messages).</summary>
    protected abstract string Name { get; }

    /// <summary>The design: distinct lattice points, in the order they are to be proposed. Called once, when first
    /// needed (not from the constructor, so a subclass's own fields are set by then).</summary>
    protected abstract IReadOnlyList<LatticePoint> MakeDesign();

    /// <summary>Every point of the design, in proposal order.</summary>
    public IReadOnlyList<LatticePoint> Design => _design ??= MakeDesign();

    /// <summary>Grid points of the whole lattice at the finest spacing: ((n_i − 1)·2^max_depth + 1) per
    /// axis.</summary>
    public static long FullLatticePoints(SweepSpec spec)
    {
        int depth = spec.Refine?.MaxDepth ?? 0;
        return spec.Initial.Aggregate(1L, (a, n) => a * ((((long)n - 1) << depth) + 1));
    }

    public IReadOnlyList<PlannedRun> Proposed => _proposed;
    public int Pending => _pending;
    public bool IsComplete => _pending == 0 && _incomplete.Count == 0 && NextNewPoint() is null;

    public IReadOnlyList<PlannedRun> Ask(int n)
    {
        var runs = new List<PlannedRun>();
        while (runs.Count < n)
        {
            LatticePoint p;
            if (_incomplete.Count > 0) p = _points[_incomplete.Min].P;
            else if (NextNewPoint() is { } fresh) p = fresh;
            else break;
            var s = _byPoint.GetValueOrDefault(p);
            MarkProposed(p, _seeds.First(x => s is null || !s.Seeds.Contains(x)));
            runs.Add(_proposed[^1]);
        }
        return runs;
    }

    public void MarkProposed(LatticePoint point, long seed)
    {
        _inDesign ??= [.. Design];
        if (!_inDesign.Contains(point))
            throw new ArgumentException($"point {point} is not in planner '{Name}''s design");
        if (!_seeds.Contains(seed))
            throw new ArgumentException($"seed {seed} is not one planner '{Name}' gives a point");
        if (!_byPoint.TryGetValue(point, out var s))
        {
            s = new PointState(point, Lattice.DepthOf(point), _proposed.Count, _points.Count);
            _byPoint[point] = s;
            _points.Add(s);
            _incomplete.Add(s.Index);
        }
        if (s.Seeds.Contains(seed)) return;   // replayed twice: already counted
        s.Seeds.Add(seed);
        if (s.Seeds.Count == _seeds.Count) _incomplete.Remove(s.Index);
        _proposed.Add(new PlannedRun(point, seed, s.Depth, _proposed.Count));
        _pending++;
    }

    public void Tell(LatticePoint point, long seed, double? metric)
    {
        if (!_byPoint.TryGetValue(point, out var s) || !s.Seeds.Contains(seed))
            throw new ArgumentException($"run {point} seed {seed} was never proposed");
        if (!s.Told.TryAdd(seed, metric)) return;   // a repeated report
        _pending--;
    }

    public IReadOnlyList<PointSummary> Points() => _points.Select(Summary).ToList();

    /// <summary>The design's first point not proposed yet (replayed points may have been proposed out of
    /// order, so the cursor skips them).</summary>
    private LatticePoint? NextNewPoint()
    {
        while (_cursor < Design.Count && _byPoint.ContainsKey(Design[_cursor])) _cursor++;
        return _cursor < Design.Count ? Design[_cursor] : null;
    }

    /// <summary>Same statistics as <see cref="BoundaryPlanner"/>'s, so points.parquet reads alike whatever
    /// planner made it.</summary>
    private static PointSummary Summary(PointState s)
    {
        var xs = s.Told.Values.Where(v => v is { } x && double.IsFinite(x)).Select(v => v!.Value).ToList();
        double mean = xs.Count == 0 ? double.NaN : xs.Average(), se = double.NaN;
        if (xs.Count >= 2) se = Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1) / xs.Count);
        return new PointSummary(s.P, s.Depth, mean, se, xs.Count, s.Seeds.Count, s.Order);
    }
}
