namespace RichLazyOrleans.Sweeps;

/// <summary>The mesh of a one-axis sweep: the intervals between consecutive points, kept as a linked list along the
/// axis, with the point before a new one found through <see cref="Coordinates"/>.</summary>
internal sealed class IntervalMesh : Mesh
{
    private readonly List<LatticePoint> _points;
    private readonly List<int> _next = [1, -1];   // vertex -> the next vertex along the axis (-1: the last)
    private readonly List<int> _from = [0, -1];   // vertex -> id of the interval starting at it
    private readonly List<int[]> _intervals = [[0, 1]];   // id -> [left, right]
    private readonly Dictionary<int, int> _vertexAt = [];   // coordinate -> vertex
    private readonly Coordinates _coordinates = new();
    private readonly List<int> _removed = [], _added = [];

    public IntervalMesh(int extent)
    {
        _points = [new(0, 0), new(extent, 0)];
        _vertexAt[0] = 0;
        _vertexAt[extent] = 1;
        _coordinates.Add(0);
        _coordinates.Add(extent);
    }

    public override int Count => _points.Count;
    public override LatticePoint this[int vertex] => _points[vertex];

    public override int Insert(LatticePoint p)
    {
        if (p.I < 0 || p.I > _points[1].I || _vertexAt.ContainsKey(p.I))
            throw new ArgumentException($"{p} is outside or already a vertex");
        int v = _points.Count, left = _vertexAt[_coordinates.Before(p.I)], right = _next[left];
        _points.Add(p);
        _vertexAt[p.I] = v;
        _coordinates.Add(p.I);
        _removed.Clear();
        _added.Clear();
        _removed.Add(_from[left]);
        _next[left] = v;
        _next.Add(right);
        _from[left] = NewInterval(left, v);
        _from.Add(NewInterval(v, right));
        return v;
    }

    private int NewInterval(int a, int b)
    {
        _intervals.Add([a, b]);
        _added.Add(_intervals.Count - 1);
        return _intervals.Count - 1;
    }

    public override IEnumerable<int[]> Simplices()
    {
        for (int v = 0; _next[v] >= 0; v = _next[v]) yield return [v, _next[v]];
    }

    internal override IEnumerable<int> SimplexIds()
    {
        for (int v = 0; _next[v] >= 0; v = _next[v]) yield return _from[v];
    }

    internal override int[] Simplex(int id) => _intervals[id];
    internal override long OrderOf(int id) => _points[_intervals[id][0]].I;
    internal override IReadOnlyList<int> LastRemoved => _removed;
    internal override IReadOnlyList<int> LastAdded => _added;
    internal override IReadOnlyList<int> LastMoved => [];

    /// <summary>A set of non-negative integers answering "the largest element below x" in 31 dictionary lookups at
    /// most: the largest element of every aligned block of 2^level integers that holds any.</summary>
    private sealed class Coordinates
    {
        private readonly Dictionary<(int Level, int Block), int> _max = [];

        public void Add(int x)
        {
            for (int level = 0; level < 31; level++)
            {
                var key = (level, x >> level);
                if (!_max.TryGetValue(key, out int m) || x > m) _max[key] = x;
            }
        }

        /// <summary>The largest element below x; -1 if none. The blocks left of x's block, from the nearest up,
        /// cover everything below x.</summary>
        public int Before(int x)
        {
            for (int level = 0; level < 31; level++)
            {
                int block = x >> level;
                if ((block & 1) == 1 && _max.TryGetValue((level, block - 1), out int m)) return m;
            }
            return -1;
        }
    }
}
