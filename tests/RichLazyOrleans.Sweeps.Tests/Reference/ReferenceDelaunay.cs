using System.Numerics;

using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Sweeps.Tests.Reference;

// A verbatim copy of the planner before it scaled (src/RichLazyOrleans.Sweeps/Delaunay.cs at e62d415, names
// prefixed with Reference): the property tests hold the incremental planner to exactly its choices. Not shipped.

/// <summary>
/// Incremental Delaunay triangulation (Bowyer-Watson) of integer points inside a fixed rectangle whose four
/// corners are the first points. Predicates are exact (Int128, BigInteger past its range), so lattice points,
/// which are full of co-circular quadruples, never produce a broken mesh; ties (a fourth point exactly on a
/// circumcircle) keep the existing triangles, so the mesh depends only on the points and their insertion order.
/// </summary>
public sealed class ReferenceDelaunay
{
    /// <summary>A triangle by vertex indices, counter-clockwise.</summary>
    public readonly record struct Tri(int A, int B, int C);

    private readonly List<(long X, long Y)> _points = [];
    private readonly List<Tri> _tris = [];
    // Circumcircles in double, only to skip triangles far from a new point (the exact test decides the rest).
    private readonly List<(double X, double Y, double R2)> _circles = [];

    public IReadOnlyList<(long X, long Y)> Points => _points;
    public IReadOnlyList<Tri> Triangles => _tris;

    /// <summary>Starts with the rectangle [0, width] × [0, height]; its corners are points 0..3.</summary>
    public ReferenceDelaunay(long width, long height)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), "the rectangle must have an area");
        _points.AddRange([(0, 0), (width, 0), (width, height), (0, height)]);
        AddTri(new Tri(0, 1, 2));
        AddTri(new Tri(0, 2, 3));
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
        var bad = new List<int>();
        for (int t = 0; t < _tris.Count; t++)
        {
            var (cx, cy, r2) = _circles[t];
            double dx = x - cx, dy = y - cy;
            if (dx * dx + dy * dy > r2 * (1 + 1e-9) + 1) continue;
            var tri = _tris[t];
            if (InCircle(_points[tri.A], _points[tri.B], _points[tri.C], (x, y)) > 0) bad.Add(t);
        }
        if (bad.Count == 0) throw new ArgumentException($"({x}, {y}) is already a point of the mesh");
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
        // Remove bad triangles (highest index first so swap-removal keeps the other indices valid).
        foreach (int t in bad.OrderDescending())
        {
            int last = _tris.Count - 1;
            _tris[t] = _tris[last];
            _circles[t] = _circles[last];
            _tris.RemoveAt(last);
            _circles.RemoveAt(last);
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

    private static IEnumerable<(int, int)> Edges(Tri t) => [(t.A, t.B), (t.B, t.C), (t.C, t.A)];

    private void AddTri(Tri t)
    {
        _tris.Add(t);
        _circles.Add(Circumcircle(_points[t.A], _points[t.B], _points[t.C]));
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
