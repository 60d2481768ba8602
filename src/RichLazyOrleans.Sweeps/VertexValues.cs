namespace RichLazyOrleans.Sweeps;

/// <summary>
/// The values the planner's choices read at the mesh vertices: a vertex's seed mean, or, for a vertex without one
/// (its runs pending or failed), the mean of its known neighbours. Recomputed only where something changed: a mean
/// (that vertex and its neighbours) or the simplices around a vertex, which set its neighbours and their order (the
/// neighbours' mean is summed in the order their simplices are listed, as a scan of the mesh sums it, so that it
/// comes out the same to the last bit).
/// </summary>
internal sealed class VertexValues
{
    private readonly Mesh _mesh;
    private readonly List<List<int>> _around = [];   // vertex -> ids of its simplices
    private readonly HashSet<int> _dirty = [];
    private readonly SortedSet<(double Value, int Vertex)> _sorted = [];   // the known and estimated values
    private double[] _means = [], _values = [];

    public VertexValues(Mesh mesh)
    {
        _mesh = mesh;
        Grow();
        foreach (int id in mesh.SimplexIds()) Add(id);
    }

    /// <summary>By vertex: its mean, or its neighbours' (NaN when neither is known). NaN past the last
    /// vertex.</summary>
    public double[] Values => _values;

    /// <summary>The range of the known values (0 with fewer than two), as a scan of them gives it.</summary>
    public double Range => _sorted.Count > 1 ? _sorted.Max.Value - _sorted.Min.Value : 0;

    /// <summary>Ids of the simplices around a vertex.</summary>
    public IReadOnlyList<int> Around(int vertex) => _around[vertex];

    public void SetMean(int vertex, double mean)
    {
        if (Same(_means[vertex], mean)) return;
        _means[vertex] = mean;
        _dirty.Add(vertex);
        foreach (int id in _around[vertex])
            foreach (int u in _mesh.Simplex(id)) _dirty.Add(u);
    }

    /// <summary>Takes in the mesh's last insertion.</summary>
    public void Inserted()
    {
        Grow();
        _dirty.Add(_mesh.Count - 1);
        foreach (int id in _mesh.LastRemoved)
            foreach (int u in _mesh.Simplex(id))
            {
                _around[u].Remove(id);
                _dirty.Add(u);
            }
        foreach (int id in _mesh.LastAdded) Add(id);
        foreach (int id in _mesh.LastMoved)
            foreach (int u in _mesh.Simplex(id)) _dirty.Add(u);
    }

    /// <summary>Recomputes what may have changed; <paramref name="changed"/> hears of each vertex whose value
    /// did.</summary>
    public void Flush(Action<int> changed)
    {
        foreach (int v in _dirty)
        {
            double x = Estimate(v), old = _values[v];
            if (Same(x, old)) continue;
            if (!double.IsNaN(old)) _sorted.Remove((old, v));
            if (!double.IsNaN(x)) _sorted.Add((x, v));
            _values[v] = x;
            changed(v);
        }
        _dirty.Clear();
    }

    private double Estimate(int v)
    {
        if (!double.IsNaN(_means[v])) return _means[v];
        if (_around[v].Count == 0) return double.NaN;
        var ids = _around[v].ToArray();
        Array.Sort(ids, (x, y) => _mesh.OrderOf(x).CompareTo(_mesh.OrderOf(y)));
        var neighbours = new List<int>();
        foreach (int id in ids)
            foreach (int u in _mesh.Simplex(id))
                if (u != v) neighbours.Add(u);
        var known = neighbours.Distinct().Select(u => _means[u]).Where(x => !double.IsNaN(x)).ToList();
        return known.Count > 0 ? known.Average() : double.NaN;
    }

    private void Add(int id)
    {
        foreach (int u in _mesh.Simplex(id))
        {
            _around[u].Add(id);
            _dirty.Add(u);
        }
    }

    private void Grow()
    {
        while (_around.Count < _mesh.Count) _around.Add([]);
        if (_values.Length >= _mesh.Count) return;
        int old = _values.Length, size = Math.Max(_mesh.Count, 2 * old);
        Array.Resize(ref _means, size);
        Array.Resize(ref _values, size);
        Array.Fill(_means, double.NaN, old, size - old);
        Array.Fill(_values, double.NaN, old, size - old);
    }

    private static bool Same(double a, double b) =>
        BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b);
}
