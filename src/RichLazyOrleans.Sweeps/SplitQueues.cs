namespace RichLazyOrleans.Sweeps;

/// <summary>
/// The planner's two ways of splitting the mesh, as queues over its simplices that change only where a simplex
/// changed: the crossing split of every straddling simplex, by area (then by point), and the exploring split of
/// every simplex. A simplex is rescored when it is new, when a corner's value changes, or when a point is taken
/// that its splits might have used (a rounded midpoint lies within one lattice unit of the exact one). The
/// scores are <see cref="MeshSplits"/>' own formulas, so the queues choose exactly what its scans choose.
/// </summary>
internal sealed class SplitQueues
{
    private readonly record struct Entry(double Key, LatticePoint Mid, int Id);

    /// <summary>Highest key first, then the smallest point (the scans' tie-break), then any fixed order.</summary>
    private sealed class ByKey : IComparer<Entry>
    {
        public int Compare(Entry x, Entry y)
        {
            int c = y.Key.CompareTo(x.Key);
            if (c == 0) c = x.Mid.CompareTo(y.Mid);
            return c != 0 ? c : x.Id.CompareTo(y.Id);
        }
    }

    private sealed class Simplex(int[] vertices, LatticePoint a, LatticePoint b, long len, double size)
    {
        public int[] Vertices { get; } = vertices;
        public LatticePoint A { get; } = a;   // its longest edge, which exploring splits
        public LatticePoint B { get; } = b;
        public long Len { get; } = len;
        public double Size { get; } = size;
        public bool Straddles { get; set; }
        public Entry? Crossing { get; set; }
        public Entry? Exploring { get; set; }   // keyed by an upper bound of its score (see _boundRange)
        public double Lo { get; set; }
        public double Hi { get; set; }
    }

    private readonly Mesh _mesh;
    private readonly MeshSplits _splits;
    private readonly double _threshold;
    private readonly List<Simplex?> _live = [];   // by id
    private readonly SortedSet<Entry> _crossing = new(new ByKey()), _exploring = new(new ByKey());
    private readonly Dictionary<(int, int), List<int>> _byMidSum = [];   // (I, J) sums of an edge's ends -> ids
    private readonly HashSet<int> _dirty = [];
    private readonly List<int> _straddling = [];   // vertex -> straddling simplices around it
    // The exploring keys are scores at a range a little below the present one (so upper bounds of the scores, which
    // fall as the range grows); NaN until the first exploring query.
    private double _boundRange = double.NaN;

    public SplitQueues(Mesh mesh, MeshSplits splits, double threshold)
    {
        _mesh = mesh;
        _splits = splits;
        _threshold = threshold;
        foreach (int id in mesh.SimplexIds()) Added(id);
    }

    /// <summary>Vertices whose straddling simplices came or went (some to none, or none to some) since last
    /// asked.</summary>
    public HashSet<int> StraddleChanged { get; } = [];

    public bool Straddling(int vertex) => vertex < _straddling.Count && _straddling[vertex] > 0;

    public void Added(int id)
    {
        var v = _mesh.Simplex(id);
        var (a, b, len) = _splits.LongestEdge(v);
        while (_live.Count <= id) _live.Add(null);
        _live[id] = new Simplex(v, a, b, len, _splits.Size(v));
        foreach (var key in MidSums(v)) (_byMidSum.TryGetValue(key, out var ids) ? ids : _byMidSum[key] = []).Add(id);
        _dirty.Add(id);
    }

    public void Removed(int id)
    {
        var s = _live[id]!;
        if (s.Crossing is { } c) _crossing.Remove(c);
        if (s.Exploring is { } e) _exploring.Remove(e);
        if (s.Straddles) Count(s.Vertices, -1);
        foreach (var key in MidSums(s.Vertices))
        {
            var ids = _byMidSum[key];
            ids.Remove(id);
            if (ids.Count == 0) _byMidSum.Remove(key);
        }
        _live[id] = null;
    }

    /// <summary>A point was taken: the splits of the edges it is a rounded midpoint of may move.</summary>
    public void Taken(LatticePoint p)
    {
        for (int di = -1; di <= 1; di++)
            for (int dj = -1; dj <= 1; dj++)
                if (_byMidSum.TryGetValue((2 * p.I + di, 2 * p.J + dj), out var ids)) _dirty.UnionWith(ids);
    }

    public void ValueChanged(IReadOnlyList<int> around) => _dirty.UnionWith(around);

    public void Flush(double[] values)
    {
        foreach (int id in _dirty)
            if (_live[id] is { } s) Rescore(id, s, values);
        _dirty.Clear();
    }

    private void Rescore(int id, Simplex s, double[] values)
    {
        if (s.Crossing is { } c) _crossing.Remove(c);
        s.Crossing = _splits.CrossingMidpoint(s.Vertices, values) is { } m ? new Entry(s.Size, m, id) : null;
        if (s.Crossing is { } added) _crossing.Add(added);
        bool straddles = MeshSplits.Straddles(s.Vertices, values, _threshold);
        if (straddles != s.Straddles) Count(s.Vertices, straddles ? 1 : -1);
        s.Straddles = straddles;
        if (s.Exploring is { } e) _exploring.Remove(e);
        s.Lo = s.Vertices.Min(v => values[v]);
        s.Hi = s.Vertices.Max(v => values[v]);
        s.Exploring = _splits.Midpoint(s.A, s.B) is { } mid ? new Entry(0, mid, id) : null;
        if (!double.IsNaN(_boundRange)) Queue(s);
    }

    /// <summary>Puts a simplex's exploring split in the queue, keyed at the bound range.</summary>
    private void Queue(Simplex s)
    {
        if (s.Exploring is not { } e) return;
        s.Exploring = e with { Key = _splits.ExplorationScore(s.Len, s.Lo, s.Hi, _boundRange) };
        _exploring.Add(s.Exploring.Value);
    }

    /// <summary>The crossing split of the largest straddling simplex (<see cref="MeshSplits.BestCrossingEdge"/>).
    /// </summary>
    public LatticePoint? BestCrossing() => _crossing.Count > 0 ? _crossing.Min.Mid : null;

    /// <summary>
    /// <see cref="MeshSplits.BestExploration"/> for a range (finite) and a variation (finite, not negative), so that
    /// a score cannot grow with the range: keys made at a range up to 3% below the present one bound the scores
    /// from above, and the search stops at the first key below the best score found.
    /// </summary>
    public LatticePoint? BestExploration(double range)
    {
        bool valid = range == _boundRange || (_boundRange > 0 && range >= _boundRange && range <= _boundRange * 1.03);
        if (!valid)
        {
            _boundRange = range > 0 ? range / 1.01 : range;
            _exploring.Clear();
            foreach (var s in _live)
                if (s is not null) Queue(s);
        }
        bool found = false;
        double bestScore = 0;
        LatticePoint best = default;
        foreach (var e in _exploring)
        {
            if (found && (e.Key < bestScore || (e.Key == bestScore && e.Mid.CompareTo(best) >= 0))) break;
            var s = _live[e.Id]!;
            double score = _splits.ExplorationScore(s.Len, s.Lo, s.Hi, range);
            if (found && (score < bestScore || (score == bestScore && e.Mid.CompareTo(best) >= 0))) continue;
            (found, bestScore, best) = (true, score, e.Mid);
        }
        return found && bestScore >= 0 ? best : null;
    }

    private void Count(int[] vertices, int delta)
    {
        foreach (int v in vertices)
        {
            while (_straddling.Count <= v) _straddling.Add(0);
            int before = _straddling[v];
            _straddling[v] += delta;
            if ((before > 0) != (_straddling[v] > 0)) StraddleChanged.Add(v);
        }
    }

    private IEnumerable<(int, int)> MidSums(int[] v)
    {
        for (int k = 0; k < (v.Length == 2 ? 1 : v.Length); k++)
        {
            LatticePoint a = _mesh[v[k]], b = _mesh[v[(k + 1) % v.Length]];
            yield return (a.I + b.I, a.J + b.J);
        }
    }
}
