namespace RichLazyOrleans.Sweeps;

/// <summary>
/// Simplices over the sampled lattice points: intervals on one axis, Delaunay triangles on two. Vertices are
/// numbered in insertion order; the domain's corners come first (they are always points of the initial lattice).
/// </summary>
public abstract class Mesh
{
    public abstract int Count { get; }
    public abstract LatticePoint this[int vertex] { get; }
    /// <summary>Inserts a point that is not yet a vertex; returns its vertex number.</summary>
    public abstract int Insert(LatticePoint p);
    /// <summary>Every simplex as vertex numbers: two (one axis) or three (two axes, counter-clockwise).</summary>
    public abstract IEnumerable<int[]> Simplices();

    // The same simplices by stable ids, for the planner, which updates what it knows of a simplex only when an
    // insertion changes it.

    /// <summary>Ids of the simplices, in the order of <see cref="Simplices"/>.</summary>
    internal abstract IEnumerable<int> SimplexIds();
    /// <summary>A live simplex's vertices, as <see cref="Simplices"/> gives them (do not modify).</summary>
    internal abstract int[] Simplex(int id);
    /// <summary>Sorts live simplices as <see cref="Simplices"/> orders them.</summary>
    internal abstract long OrderOf(int id);
    /// <summary>Simplices the last insertion removed, added, and moved in the order (the others keep theirs).
    /// </summary>
    internal abstract IReadOnlyList<int> LastRemoved { get; }
    internal abstract IReadOnlyList<int> LastAdded { get; }
    internal abstract IReadOnlyList<int> LastMoved { get; }

    /// <summary>The mesh for a lattice, holding just the domain's corners (vertices 0, 1[, 2, 3]).</summary>
    public static Mesh For(Lattice lattice) =>
        lattice.Dims == 1
            ? new IntervalMesh(lattice.Extent[0])
            : new TriangleMesh(lattice.Extent[0], lattice.Extent[1]);

    /// <summary>The domain's corners, in vertex order.</summary>
    public static IReadOnlyList<LatticePoint> Corners(Lattice lattice) => lattice.Dims == 1
        ? [new(0, 0), new(lattice.Extent[0], 0)]
        : [new(0, 0), new(lattice.Extent[0], 0), new(lattice.Extent[0], lattice.Extent[1]), new(0, lattice.Extent[1])];

    private sealed class TriangleMesh(int width, int height) : Mesh
    {
        private readonly Delaunay _d = new(width, height);
        private readonly List<int[]?> _simplices = [];   // by id, made when first asked for

        public override int Count => _d.Points.Count;
        public override LatticePoint this[int vertex] => new((int)_d.Points[vertex].X, (int)_d.Points[vertex].Y);
        public override int Insert(LatticePoint p) => _d.Insert(p.I, p.J);
        public override IEnumerable<int[]> Simplices() => _d.Triangles.Select(t => new[] { t.A, t.B, t.C });

        internal override IEnumerable<int> SimplexIds()
        {
            for (int k = 0; k < _d.Triangles.Count; k++) yield return _d.IdAt(k);
        }

        internal override int[] Simplex(int id)
        {
            while (_simplices.Count <= id) _simplices.Add(null);
            var t = _d.TriangleById(id);
            return _simplices[id] ??= [t.A, t.B, t.C];
        }

        internal override long OrderOf(int id) => _d.PositionOf(id);
        internal override IReadOnlyList<int> LastRemoved => _d.LastRemoved;
        internal override IReadOnlyList<int> LastAdded => _d.LastAdded;
        internal override IReadOnlyList<int> LastMoved => _d.LastMoved;
    }
}
