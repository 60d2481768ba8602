using System.Numerics;

namespace RichLazyOrleans.Sweeps;

/// <summary>
/// Incremental Delaunay triangulation (Bowyer-Watson) of integer points inside a fixed rectangle whose four
/// corners are the first points. Predicates are exact (Int128, BigInteger past its range), so lattice points,
/// which are full of co-circular quadruples, never produce a broken mesh; ties (a fourth point exactly on a
/// circumcircle) keep the existing triangles, so the mesh depends only on the points and their insertion order.
/// An insertion walks to the triangle holding the new point from a vertex near it (<see cref="VertexCells"/>) and
/// grows the cavity over neighbouring triangles, so it costs the walk and the cavity, not the whole mesh. The
/// triangle list changes exactly as a scan of every triangle would change it (the same triangles removed, in the
/// same order, the last ones moved into their places), since callers read <see cref="Triangles"/> in order.
/// </summary>
public sealed class Delaunay
{
    /// <summary>A triangle by vertex indices, counter-clockwise.</summary>
    public readonly record struct Tri(int A, int B, int C);

    private readonly List<(long X, long Y)> _points = [];
    private readonly List<Tri> _tris = [];   // by position: the order callers see
    private readonly List<int> _idAt = [];   // position -> id (ids are stable; positions move on removals)
    private readonly List<Tri> _byId = [];
    private readonly List<int> _positionOf = [];   // id -> position; -1 once removed
    // Circumcircles in double, only to skip triangles far from a new point (the exact test decides the rest).
    private readonly List<(double X, double Y, double R2)> _circles = [];   // by id
    // Directed edge (a, b) -> id of its triangle. Keyed by the pair, not by a packed long: a long's hash is a ^ b,
    // which puts the edges between vertices of nearby numbers (most of them) in a few buckets.
    private readonly Dictionary<(int, int), int> _edgeOwner = [];
    private readonly List<int> _outEdge = [];   // vertex v -> some b with (v, b) a directed edge of the mesh
    private readonly VertexCells _cells = new();
    private readonly List<int> _removed = [], _added = [], _moved = [];

    public IReadOnlyList<(long X, long Y)> Points => _points;
    public IReadOnlyList<Tri> Triangles => _tris;

    /// <summary>Ids of the triangles the last <see cref="Insert"/> removed, added, and moved to another
    /// position.</summary>
    internal IReadOnlyList<int> LastRemoved => _removed;
    internal IReadOnlyList<int> LastAdded => _added;
    internal IReadOnlyList<int> LastMoved => _moved;
    internal Tri TriangleById(int id) => _byId[id];
    internal int PositionOf(int id) => _positionOf[id];
    internal int IdAt(int position) => _idAt[position];

    /// <summary>Starts with the rectangle [0, width] × [0, height]; its corners are points 0..3.</summary>
    public Delaunay(long width, long height)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), "the rectangle must have an area");
        _points.AddRange([(0, 0), (width, 0), (width, height), (0, height)]);
        for (int v = 0; v < 4; v++)
        {
            _outEdge.Add(-1);
            _cells.Add(_points[v].X, _points[v].Y, v);
        }
        AddTri(new Tri(0, 1, 2));
        AddTri(new Tri(0, 2, 3));
        _added.Clear();   // the changes are those of insertions
    }

    /// <summary>Inserts a point inside the rectangle (or on its border) that is not yet in the mesh; returns its
    /// index.</summary>
    public int Insert(long x, long y)
    {
        var (w, h) = _points[2];
        if (x < 0 || y < 0 || x > w || y > h)
            throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}) is outside the rectangle");
        int p = _points.Count;
        _points.Add((x, y));
        _removed.Clear();
        _added.Clear();
        _moved.Clear();
        var bad = Cavity(x, y);
        if (bad.Count == 0)
        {
            _points.RemoveAt(p);
            throw new ArgumentException($"({x}, {y}) is already a point of the mesh");
        }
        _outEdge.Add(-1);
        _cells.Add(x, y, p);
        // The cavity's border: edges of exactly one bad triangle (as that triangle orients them).
        var edgeCount = new Dictionary<(int, int), int>();
        foreach (int t in bad)
            foreach (var (a, b) in Edges(_tris[t]))
            {
                var key = a < b ? (a, b) : (b, a);
                edgeCount[key] = edgeCount.GetValueOrDefault(key) + 1;
            }
        var border = new List<(int, int)>();
        foreach (int t in bad)
            foreach (var (a, b) in Edges(_tris[t]))
                if (edgeCount[a < b ? (a, b) : (b, a)] == 1) border.Add((a, b));
        // Remove bad triangles (highest position first so swap-removal keeps the other positions valid).
        foreach (int t in bad.OrderDescending())
        {
            int last = _tris.Count - 1;
            Forget(_idAt[t]);
            if (t != last)
            {
                _tris[t] = _tris[last];
                _idAt[t] = _idAt[last];
                _positionOf[_idAt[t]] = t;
                _moved.Add(_idAt[t]);
            }
            _tris.RemoveAt(last);
            _idAt.RemoveAt(last);
        }
        foreach (var (a, b) in border)
        {
            int o = Orient(_points[a], _points[b], (x, y));
            if (o > 0) AddTri(new Tri(a, b, p));
            else if (o < 0) throw new InvalidOperationException("Delaunay cavity is not star-shaped (bug)");
            // o == 0: the new point lies on this border edge (the rectangle's side): no triangle there.
        }
        return p;
    }

    /// <summary>
    /// Positions (ascending) of the triangles whose circumcircle strictly holds (x, y): the connected set of them
    /// around the triangle holding the point (a Delaunay cavity is connected), the same set a scan of every
    /// triangle finds.
    /// </summary>
    private List<int> Cavity(long x, long y)
    {
        var bad = new List<int>();
        int start = Locate(x, y);
        var seen = new HashSet<int> { start };
        var stack = new Stack<int>();
        stack.Push(start);
        while (stack.Count > 0)
        {
            int id = stack.Pop();
            if (!InCircumcircle(id, x, y)) continue;
            bad.Add(_positionOf[id]);
            foreach (var (a, b) in Edges(_byId[id]))
                if (_edgeOwner.TryGetValue(Key(b, a), out int next) && seen.Add(next)) stack.Push(next);
        }
        bad.Sort();
        return bad;
    }

    private bool InCircumcircle(int id, long x, long y)
    {
        var (cx, cy, r2) = _circles[id];
        double dx = x - cx, dy = y - cy;
        if (dx * dx + dy * dy > r2 * (1 + 1e-9) + 1) return false;
        var tri = _byId[id];
        return InCircle(_points[tri.A], _points[tri.B], _points[tri.C], (x, y)) > 0;
    }

    /// <summary>Id of a triangle holding (x, y) (on its border counts): a visibility walk from a triangle at the
    /// nearest vertex the cells know; a scan of every triangle if the walk should ever go round in circles.</summary>
    private int Locate(long x, long y)
    {
        int v = _cells.Near(x, y);
        int id = _edgeOwner[Key(v, _outEdge[v])];
        for (int steps = 0; steps <= _tris.Count; steps++)
        {
            int next = -1;
            foreach (var (a, b) in Edges(_byId[id]))
                if (Orient(_points[a], _points[b], (x, y)) < 0)
                {
                    next = _edgeOwner.GetValueOrDefault(Key(b, a), -1);
                    break;
                }
            if (next < 0) return id;   // inside (or, never for a point in the rectangle, past its border)
            id = next;
        }
        for (int t = 0; t < _tris.Count; t++)
            if (Edges(_tris[t]).All(e => Orient(_points[e.Item1], _points[e.Item2], (x, y)) >= 0)) return _idAt[t];
        throw new InvalidOperationException("no triangle holds the point (bug)");
    }

    private static (int, int) Key(int a, int b) => (a, b);

    private static IEnumerable<(int, int)> Edges(Tri t) => [(t.A, t.B), (t.B, t.C), (t.C, t.A)];

    private void AddTri(Tri t)
    {
        int id = _byId.Count;
        _byId.Add(t);
        _positionOf.Add(_tris.Count);
        _tris.Add(t);
        _idAt.Add(id);
        _circles.Add(Circumcircle(_points[t.A], _points[t.B], _points[t.C]));
        foreach (var (a, b) in Edges(t))
        {
            _edgeOwner[Key(a, b)] = id;
            _outEdge[a] = b;
        }
        _added.Add(id);
    }

    /// <summary>Drops a removed triangle's edges (a border edge is re-added by the triangle that replaces
    /// it).</summary>
    private void Forget(int id)
    {
        foreach (var (a, b) in Edges(_byId[id]))
            if (_edgeOwner.TryGetValue(Key(a, b), out int owner) && owner == id) _edgeOwner.Remove(Key(a, b));
        _positionOf[id] = -1;
        _removed.Add(id);
    }

    private static (double, double, double) Circumcircle((long X, long Y) a, (long X, long Y) b, (long X, long Y) c)
    {
        double bx = b.X - a.X, by = b.Y - a.Y, cx = c.X - a.X, cy = c.Y - a.Y;
        double d = 2 * (bx * cy - by * cx);
        double b2 = bx * bx + by * by, c2 = cx * cx + cy * cy;
        double ux = (cy * b2 - by * c2) / d, uy = (bx * c2 - cx * b2) / d;
        return (a.X + ux, a.Y + uy, ux * ux + uy * uy);
    }

    /// <summary>Sign of the orientation of (a, b, c): positive counter-clockwise.</summary>
    public static int Orient((long X, long Y) a, (long X, long Y) b, (long X, long Y) c)
    {
        Int128 v = (Int128)(b.X - a.X) * (c.Y - a.Y) - (Int128)(b.Y - a.Y) * (c.X - a.X);
        return v.CompareTo(Int128.Zero);
    }

    /// <summary>Positive when d is strictly inside the circumcircle of the counter-clockwise triangle (a, b, c).
    /// </summary>
    public static int InCircle((long X, long Y) a, (long X, long Y) b, (long X, long Y) c, (long X, long Y) d)
    {
        try
        {
            checked
            {
                Int128 adx = a.X - d.X, ady = a.Y - d.Y, bdx = b.X - d.X, bdy = b.Y - d.Y,
                    cdx = c.X - d.X, cdy = c.Y - d.Y;
                Int128 det = (adx * adx + ady * ady) * (bdx * cdy - cdx * bdy)
                    - (bdx * bdx + bdy * bdy) * (adx * cdy - cdx * ady)
                    + (cdx * cdx + cdy * cdy) * (adx * bdy - bdx * ady);
                return det.CompareTo(Int128.Zero);
            }
        }
        catch (OverflowException)
        {
            BigInteger adx = a.X - d.X, ady = a.Y - d.Y, bdx = b.X - d.X, bdy = b.Y - d.Y,
                cdx = c.X - d.X, cdy = c.Y - d.Y;
            var det = (adx * adx + ady * ady) * (bdx * cdy - cdx * bdy)
                - (bdx * bdx + bdy * bdy) * (adx * cdy - cdx * ady)
                + (cdx * cdx + cdy * cdy) * (adx * bdy - bdx * ady);
            return det.Sign;
        }
    }
}
