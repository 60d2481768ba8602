namespace RichLazyOrleans.Sweeps;

/// <summary>
/// A point of the sweep lattice in integer coordinates at the finest resolution (J = 0 on a one-axis
/// sweep). Integer coordinates make "the same point" exact, so a point is never run twice.
/// </summary>
public readonly record struct LatticePoint(int I, int J) : IComparable<LatticePoint>
{
    public int CompareTo(LatticePoint other) => I != other.I ? I.CompareTo(other.I) : J.CompareTo(other.J);
    public override string ToString() => $"{I}_{J}";
}

/// <summary>
/// The lattice of a sweep: the initial nodes per axis, refined by halving down to max depth. A cell
/// at depth k is a square (interval on one axis) of side 2^(maxDepth − k) lattice units whose lower
/// corner is a multiple of that side.
/// </summary>
public sealed class Lattice
{
    public int Dims { get; }
    public int MaxDepth { get; }
    /// <summary>Lattice units per axis: (initial − 1)·2^maxDepth.</summary>
    public int[] Extent { get; }

    public Lattice(IReadOnlyList<int> initial, int maxDepth)
    {
        if (initial.Count is < 1 or > 2) throw new ArgumentException("one or two axes");
        if (maxDepth is < 0 or > 20) throw new ArgumentOutOfRangeException(nameof(maxDepth));
        Dims = initial.Count;
        MaxDepth = maxDepth;
        Extent = initial.Select(n => checked((n - 1) << maxDepth)).ToArray();
    }

    public static Lattice For(SweepSpec spec) => new(spec.Initial, spec.Refine?.MaxDepth ?? 0);

    public int CellSize(int depth) => 1 << (MaxDepth - depth);

    /// <summary>Fractions (u, v) ∈ [0, 1]² of the axes at a lattice point.</summary>
    public (double U, double V) Fractions(LatticePoint p) =>
        (p.I / (double)Extent[0], Dims == 2 ? p.J / (double)Extent[1] : 0);

    /// <summary>The refinement level at which a point first appears (0: initial lattice).</summary>
    public int DepthOf(LatticePoint p)
    {
        for (int k = 0; k <= MaxDepth; k++)
        {
            int s = CellSize(k);
            if (p.I % s == 0 && p.J % s == 0) return k;
        }
        throw new ArgumentException($"{p} is not a lattice point");
    }

    public IEnumerable<LatticePoint> InitialPoints()
    {
        int s = CellSize(0);
        for (int i = 0; i <= Extent[0]; i += s)
            if (Dims == 1) yield return new LatticePoint(i, 0);
            else for (int j = 0; j <= Extent[1]; j += s) yield return new LatticePoint(i, j);
    }

    /// <summary>Cells of depth 0 (lower corners).</summary>
    public IEnumerable<Cell> InitialCells()
    {
        int s = CellSize(0);
        for (int i = 0; i < Extent[0]; i += s)
            if (Dims == 1) yield return new Cell(0, i, 0);
            else for (int j = 0; j < Extent[1]; j += s) yield return new Cell(0, i, j);
    }

    public IEnumerable<(int Di, int Dj)> Offsets(int per)
    {
        for (int a = 0; a < per; a++)
            if (Dims == 1) yield return (a, 0);
            else for (int b = 0; b < per; b++) yield return (a, b);
    }

    public IEnumerable<LatticePoint> Corners(Cell c)
    {
        int s = CellSize(c.Depth);
        foreach (var (a, b) in Offsets(2)) yield return new LatticePoint(c.I + a * s, c.J + b * s);
    }

    /// <summary>
    /// The lattice points of the cell at half its spacing (3 per axis): corners, edge midpoints, centre.
    /// </summary>
    public IEnumerable<LatticePoint> RefinedPoints(Cell c)
    {
        int h = CellSize(c.Depth) / 2;
        foreach (var (a, b) in Offsets(3)) yield return new LatticePoint(c.I + a * h, c.J + b * h);
    }

    public LatticePoint Centre(Cell c)
    {
        int h = CellSize(c.Depth) / 2;
        return new LatticePoint(c.I + h, Dims == 2 ? c.J + h : 0);
    }

    public IEnumerable<Cell> Children(Cell c)
    {
        int h = CellSize(c.Depth) / 2;
        foreach (var (a, b) in Offsets(2)) yield return new Cell(c.Depth + 1, c.I + a * h, c.J + b * h);
    }

    /// <summary>Cells of the same depth sharing an edge (or an end point on one axis).</summary>
    public IEnumerable<Cell> Neighbours(Cell c)
    {
        int s = CellSize(c.Depth);
        var steps = Dims == 1 ? new[] { (-1, 0), (1, 0) } : new[] { (-1, 0), (1, 0), (0, -1), (0, 1) };
        foreach (var (a, b) in steps)
        {
            int i = c.I + a * s, j = c.J + b * s;
            if (i >= 0 && i < Extent[0] && (Dims == 1 || (j >= 0 && j < Extent[1])))
                yield return new Cell(c.Depth, i, j);
        }
    }
}

/// <summary>A lattice cell: depth and lower corner.</summary>
public readonly record struct Cell(int Depth, int I, int J);
