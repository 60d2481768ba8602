namespace RichLazyOrleans.Sweeps;

/// <summary>
/// What <see cref="BoundaryPlanner"/> asks of its mesh (the next extra seed, the next crossing split, the next
/// exploring split), kept up to date as points are added, proposed and told: each event marks what it may have
/// changed (vertex values, simplices, seed candidates) and a query first brings those up to date, so a proposal
/// costs the changes since the last one (and the queues' logarithms), not a pass over the whole sweep.
/// </summary>
internal sealed class PlannerIndex
{
    private readonly Mesh _mesh;
    private readonly PlannerOptions _options;
    private readonly int _maxSeeds;
    private readonly MeshSplits _splits;
    private readonly VertexValues _values;
    private readonly SplitQueues _queues;
    private readonly SeedQueue _seeds;
    private readonly PooledVariance _pooled;
    private readonly List<PlannerPoint?> _byVertex = [];
    private readonly HashSet<int> _seedsDirty = [];

    public PlannerIndex(Mesh mesh, List<PlannerPoint> points, Func<LatticePoint, bool> taken, double threshold,
        PlannerOptions options, int maxSeeds)
    {
        _mesh = mesh;
        _options = options;
        _maxSeeds = maxSeeds;
        _splits = new MeshSplits(mesh, taken, threshold, options.Variation);
        _values = new VertexValues(mesh);
        _queues = new SplitQueues(mesh, _splits, threshold);
        _seeds = new SeedQueue(options, threshold);
        _pooled = new PooledVariance(points);
    }

    /// <summary>A new point, at a vertex just inserted into the mesh (or at a corner, there from the start).
    /// </summary>
    public void Added(PlannerPoint p, bool inserted)
    {
        while (_byVertex.Count < _mesh.Count) _byVertex.Add(null);
        _byVertex[p.Vertex] = p;
        if (inserted)
        {
            foreach (int id in _mesh.LastRemoved) _queues.Removed(id);
            foreach (int id in _mesh.LastAdded) _queues.Added(id);
            _values.Inserted();
        }
        _queues.Taken(p.P);
        _seedsDirty.Add(p.Vertex);
    }

    /// <summary>A run of the point was proposed (it has one more seed, not yet told).</summary>
    public void Proposed(PlannerPoint p) => _seedsDirty.Add(p.Vertex);

    /// <summary>A run of the point was told; <paramref name="valueAdded"/>: with a value, so its statistics
    /// changed.</summary>
    public void Told(PlannerPoint p, bool valueAdded)
    {
        _seedsDirty.Add(p.Vertex);
        if (!valueAdded) return;
        _values.SetMean(p.Vertex, p.Stats.Mean);
        _pooled.Changed(p.Index);
    }

    /// <summary>Another seed where the side of a corner of a straddling simplex is still uncertain.</summary>
    public LatticePoint? SeedCandidate()
    {
        Flush();
        double pooled = _pooled.Value();
        return _seeds.Answers(pooled)
            ? _seeds.Best(pooled)
            : _seeds.Scan(_mesh.Simplices(), _values.Values, PointAt, _maxSeeds, pooled);
    }

    /// <summary>See <see cref="MeshSplits.BestCrossingEdge"/>.</summary>
    public LatticePoint? BestCrossing()
    {
        Flush();
        return _queues.BestCrossing();
    }

    /// <summary>See <see cref="MeshSplits.BestExploration"/>; the queue needs a variation that keeps scores
    /// falling as the range grows, and finite scores (otherwise the scan decides, ties and NaN as ever).</summary>
    public LatticePoint? BestExploration()
    {
        Flush();
        double range = _values.Range;
        return _options.Variation >= 0 && double.IsFinite(_options.Variation) && double.IsFinite(range)
            ? _queues.BestExploration(range)
            : _splits.BestExploration(_mesh.Simplices().ToList(), _values.Values);
    }

    private PlannerPoint? PointAt(int vertex) => vertex < _byVertex.Count ? _byVertex[vertex] : null;

    private void Flush()
    {
        _values.Flush(v => _queues.ValueChanged(_values.Around(v)));
        _queues.Flush(_values.Values);
        _seedsDirty.UnionWith(_queues.StraddleChanged);
        _queues.StraddleChanged.Clear();
        foreach (int v in _seedsDirty)
        {
            var p = PointAt(v);
            bool open = p is not null && _queues.Straddling(v) && p.Seeds.Count < _maxSeeds && p.AllTold
                && p.Stats.N > 0;
            _seeds.Set(v, open ? p : null);
        }
        _seedsDirty.Clear();
    }
}
