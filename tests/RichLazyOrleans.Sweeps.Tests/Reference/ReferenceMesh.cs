using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Sweeps.Tests.Reference;

// A verbatim copy of the planner before it scaled (src/RichLazyOrleans.Sweeps/Mesh.cs at e62d415, names
// prefixed with Reference): the property tests hold the incremental planner to exactly its choices. Not shipped.

/// <summary>
/// Simplices over the sampled lattice points: intervals on one axis, Delaunay triangles on two. Vertices are
/// numbered in insertion order; the domain's corners come first (they are always points of the initial lattice).
/// </summary>
public abstract class ReferenceMesh
{
    public abstract int Count { get; }
    public abstract LatticePoint this[int vertex] { get; }
    /// <summary>Inserts a point that is not yet a vertex; returns its vertex number.</summary>
    public abstract int Insert(LatticePoint p);
    /// <summary>Every simplex as vertex numbers: two (one axis) or three (two axes, counter-clockwise).</summary>
    public abstract IEnumerable<int[]> Simplices();

    /// <summary>The mesh for a lattice, holding just the domain's corners (vertices 0, 1[, 2, 3]).</summary>
    public static ReferenceMesh For(Lattice lattice) =>
        lattice.Dims == 1
            ? new IntervalMesh(lattice.Extent[0])
            : new TriangleMesh(lattice.Extent[0], lattice.Extent[1]);

    /// <summary>The domain's corners, in vertex order.</summary>
    public static IReadOnlyList<LatticePoint> Corners(Lattice lattice) => lattice.Dims == 1
        ? [new(0, 0), new(lattice.Extent[0], 0)]
        : [new(0, 0), new(lattice.Extent[0], 0), new(lattice.Extent[0], lattice.Extent[1]), new(0, lattice.Extent[1])];

    private sealed class IntervalMesh : ReferenceMesh
    {
        private readonly List<LatticePoint> _points;
        private readonly SortedList<int, int> _byI = new();   // coordinate -> vertex

        public IntervalMesh(int extent)
        {
            _points = [new(0, 0), new(extent, 0)];
            _byI[0] = 0;
            _byI[extent] = 1;
        }

        public override int Count => _points.Count;
        public override LatticePoint this[int vertex] => _points[vertex];

        public override int Insert(LatticePoint p)
        {
            if (p.I < 0 || p.I > _points[1].I || _byI.ContainsKey(p.I))
                throw new ArgumentException($"{p} is outside or already a vertex");
            _points.Add(p);
            _byI[p.I] = _points.Count - 1;
            return _points.Count - 1;
        }

        public override IEnumerable<int[]> Simplices()
        {
            var v = _byI.Values;
            for (int k = 0; k + 1 < v.Count; k++) yield return [v[k], v[k + 1]];
        }
    }

    private sealed class TriangleMesh(int width, int height) : ReferenceMesh
    {
        private readonly ReferenceDelaunay _d = new(width, height);

        public override int Count => _d.Points.Count;
        public override LatticePoint this[int vertex] => new((int)_d.Points[vertex].X, (int)_d.Points[vertex].Y);
        public override int Insert(LatticePoint p) => _d.Insert(p.I, p.J);
        public override IEnumerable<int[]> Simplices() => _d.Triangles.Select(t => new[] { t.A, t.B, t.C });
    }
}
