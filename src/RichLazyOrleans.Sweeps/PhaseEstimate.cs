namespace RichLazyOrleans.Sweeps;

/// <summary>
/// The phase field estimated from sampled grid points: plain linear interpolation of the seed means over the
/// Delaunay triangles of the points (intervals on one axis), what scipy's griddata(method="linear") gives. Its
/// threshold level set is the estimated boundary. The same estimate feeds plots, boundary.json and benchmarks.
/// </summary>
public sealed class PhaseEstimate
{
    private readonly Lattice _lattice;
    private readonly Mesh _mesh;
    private readonly double[] _values;   // per mesh vertex; NaN where unknown

    /// <param name="values">Seed means by point; non-finite values are left out (a failed point).</param>
    public PhaseEstimate(Lattice lattice, IReadOnlyDictionary<LatticePoint, double> values)
    {
        _lattice = lattice;
        _mesh = Mesh.For(lattice);
        var corners = Mesh.Corners(lattice);
        // Sorted insertion: the estimate depends on the points, not on the order they were run in.
        foreach (var p in values.Keys.Where(p => double.IsFinite(values[p]) && !corners.Contains(p)).Order())
            _mesh.Insert(p);
        _values = new double[_mesh.Count];
        for (int v = 0; v < _mesh.Count; v++)
            _values[v] = values.TryGetValue(_mesh[v], out double x) && double.IsFinite(x) ? x : double.NaN;
    }

    public Lattice Lattice => _lattice;

    /// <summary>The estimate at the centres of an m × m grid of cells over the axis fractions [0, 1]² (m × 1 on one
    /// axis), indexed [a, b] with u = (a + ½)/m, v = (b + ½)/m. NaN inside simplices with an unknown
    /// corner.</summary>
    public double[,] Raster(int m)
    {
        int mv = _lattice.Dims == 2 ? m : 1;
        var r = new double[m, mv];
        for (int a = 0; a < m; a++) for (int b = 0; b < mv; b++) r[a, b] = double.NaN;
        double sx = _lattice.Extent[0] / (double)m, sy = _lattice.Dims == 2 ? _lattice.Extent[1] / (double)m : 1;
        foreach (var s in _mesh.Simplices())
        {
            if (s.Length == 2) { RasterInterval(r, s, sx, m); continue; }
            var (p0, p1, p2) = (_mesh[s[0]], _mesh[s[1]], _mesh[s[2]]);
            double det = (p1.I - p0.I) * (double)(p2.J - p0.J) - (p2.I - p0.I) * (double)(p1.J - p0.J);
            int a0 = Math.Max(0, (int)Math.Floor(Math.Min(p0.I, Math.Min(p1.I, p2.I)) / sx - 0.5));
            int a1 = Math.Min(m - 1, (int)Math.Ceiling(Math.Max(p0.I, Math.Max(p1.I, p2.I)) / sx - 0.5));
            int b0 = Math.Max(0, (int)Math.Floor(Math.Min(p0.J, Math.Min(p1.J, p2.J)) / sy - 0.5));
            int b1 = Math.Min(m - 1, (int)Math.Ceiling(Math.Max(p0.J, Math.Max(p1.J, p2.J)) / sy - 0.5));
            for (int a = a0; a <= a1; a++)
                for (int b = b0; b <= b1; b++)
                {
                    double x = (a + 0.5) * sx, y = (b + 0.5) * sy;
                    double l1 = ((x - p0.I) * (p2.J - p0.J) - (p2.I - p0.I) * (y - p0.J)) / det;
                    double l2 = ((p1.I - p0.I) * (y - p0.J) - (x - p0.I) * (p1.J - p0.J)) / det;
                    double l0 = 1 - l1 - l2;
                    const double eps = -1e-12;   // cells on a shared edge get the same value from either side
                    if (l0 < eps || l1 < eps || l2 < eps) continue;
                    r[a, b] = l0 * _values[s[0]] + l1 * _values[s[1]] + l2 * _values[s[2]];
                }
        }
        return r;
    }

    private void RasterInterval(double[,] r, int[] s, double sx, int m)
    {
        var (p, q) = (_mesh[s[0]], _mesh[s[1]]);
        for (int a = Math.Max(0, (int)(p.I / sx) - 1); a <= Math.Min(m - 1, (int)(q.I / sx) + 1); a++)
        {
            double x = (a + 0.5) * sx;
            if (x < p.I || x > q.I) continue;
            double f = (x - p.I) / (q.I - p.I);
            r[a, 0] = (1 - f) * _values[s[0]] + f * _values[s[1]];
        }
    }

    /// <summary>
    /// The threshold level set as polylines in axis fractions (u, v): the crossing points on every simplex edge whose
    /// ends lie on either side (a value equal to the threshold counts as above), chained through shared edges. On one
    /// axis each crossing is a polyline of one point (u, 0).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<(double U, double V)>> LevelSet(double threshold)
    {
        var segments = new List<((int, int) A, (int, int) B)>();
        var crossing = new Dictionary<(int, int), (double U, double V)>();
        foreach (var s in _mesh.Simplices())
        {
            if (s.Any(v => double.IsNaN(_values[v]))) continue;
            var cut = new List<(int, int)>();
            for (int k = 0; k < s.Length; k++)
            {
                int a = s[k], b = s[(k + 1) % s.Length];
                if (s.Length == 2 && k == 1) break;
                if ((_values[a] >= threshold) == (_values[b] >= threshold)) continue;
                var key = a < b ? (a, b) : (b, a);
                crossing[key] = Cross(key.Item1, key.Item2, threshold);
                cut.Add(key);
            }
            if (cut.Count == 2) segments.Add((cut[0], cut[1]));
            else if (cut.Count == 1 && s.Length == 2) segments.Add((cut[0], cut[0]));
        }
        return Chain(segments, crossing);
    }

    private (double U, double V) Cross(int a, int b, double t)
    {
        double f = (t - _values[a]) / (_values[b] - _values[a]);
        var (p, q) = (_mesh[a], _mesh[b]);
        double i = p.I + f * (q.I - p.I), j = p.J + f * (q.J - p.J);
        return (i / _lattice.Extent[0], _lattice.Dims == 2 ? j / _lattice.Extent[1] : 0);
    }

    /// <summary>Joins segments that share a crossing edge into polylines (open, or closed with the first point
    /// repeated).</summary>
    private static List<IReadOnlyList<(double U, double V)>> Chain(List<((int, int) A, (int, int) B)> segments,
        Dictionary<(int, int), (double U, double V)> crossing)
    {
        var byEdge = new Dictionary<(int, int), List<int>>();
        for (int k = 0; k < segments.Count; k++)
            foreach (var e in new[] { segments[k].A, segments[k].B }.Distinct())
                (byEdge.TryGetValue(e, out var l) ? l : byEdge[e] = []).Add(k);
        var used = new bool[segments.Count];
        var lines = new List<IReadOnlyList<(double U, double V)>>();
        // Start at open ends (an edge with one segment) first, so open curves come out whole.
        var starts = Enumerable.Range(0, segments.Count)
            .OrderBy(k => byEdge[segments[k].A].Count == 1 || byEdge[segments[k].B].Count == 1 ? 0 : 1).ThenBy(k => k);
        foreach (int start in starts)
        {
            if (used[start]) continue;
            var (a, b) = segments[start];
            if (byEdge[b].Count == 1 && byEdge[a].Count > 1) (a, b) = (b, a);   // walk away from the open end
            var edges = new List<(int, int)> { a };
            used[start] = true;
            var cur = b;
            while (true)
            {
                edges.Add(cur);
                int next = byEdge[cur].FirstOrDefault(k => !used[k], -1);
                if (next < 0) break;
                used[next] = true;
                cur = segments[next].A == cur ? segments[next].B : segments[next].A;
            }
            lines.Add(edges.Distinct().Select(e => crossing[e])
                .Concat(edges[0] == edges[^1] && edges.Count > 2 ? [crossing[edges[0]]] : []).ToList());
        }
        return lines;
    }
}
