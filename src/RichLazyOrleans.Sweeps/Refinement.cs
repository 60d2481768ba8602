namespace RichLazyOrleans.Sweeps;

/// <summary>
/// Adaptive refinement of a sweep lattice where the regime changes. Deterministic and stateless:
/// everything is derived from the points measured so far (a cell counts as refined exactly when
/// its centre is a known point), so a restarted coordinator plans the same next round.
/// </summary>
/// <remarks>
/// Round k looks at the leaf cells of depth k. A cell straddles the threshold when its corner values
/// are not all on one side of it; straddling cells are split, and so are their same-depth neighbours,
/// because a boundary that bulges through a cell between two corners on the same side would
/// otherwise be lost. New points are taken in a fixed priority order (straddling cells whose corner
/// values come closest to the threshold first, then neighbours, then coordinates) until the budget
/// of grid points is reached.
/// </remarks>
public sealed class Refinement(Lattice lattice, double threshold, int budget)
{
    public Lattice Lattice { get; } = lattice;

    /// <summary>
    /// The points of round depth + 1, given the metric (seed mean) of every known point. Empty when
    /// depth has reached the lattice's maximum, nothing straddles, or the budget is spent.
    /// </summary>
    public IReadOnlyList<LatticePoint> NextRound(IReadOnlyDictionary<LatticePoint, double> values, int depth)
    {
        if (depth >= Lattice.MaxDepth || values.Count >= budget) return [];
        var leaves = Leaves(values.Keys.ToHashSet()).Where(c => c.Depth == depth).ToHashSet();
        var straddling = new List<(Cell Cell, double Key)>();
        foreach (var cell in leaves)
        {
            var v = Lattice.Corners(cell).Select(p => values.TryGetValue(p, out double x) ? x : double.NaN).ToArray();
            if (v.Any(double.IsNaN)) continue;   // not all corners measured (cannot happen between rounds)
            bool above = v[0] >= threshold;
            if (v.Any(x => (x >= threshold) != above))
                straddling.Add((cell, v.Min(x => Math.Abs(x - threshold))));
        }
        var chosen = new List<Cell>();
        var seen = new HashSet<Cell>();
        foreach (var (cell, _) in straddling.OrderBy(s => s.Key).ThenBy(s => s.Cell.I).ThenBy(s => s.Cell.J))
            if (seen.Add(cell)) chosen.Add(cell);
        foreach (var (cell, _) in straddling.OrderBy(s => s.Cell.I).ThenBy(s => s.Cell.J))
            foreach (var n in Lattice.Neighbours(cell).OrderBy(n => n.I).ThenBy(n => n.J))
                if (leaves.Contains(n) && seen.Add(n)) chosen.Add(n);

        var added = new SortedSet<LatticePoint>();
        int total = values.Count;
        foreach (var cell in chosen)
        {
            var fresh = Lattice.RefinedPoints(cell).Where(p => !values.ContainsKey(p) && !added.Contains(p)).ToList();
            if (total + fresh.Count > budget) continue;   // a smaller cell later may still fit
            foreach (var p in fresh) added.Add(p);
            total += fresh.Count;
        }
        return added.ToList();
    }

    /// <summary>Leaf cells implied by a set of known points.</summary>
    public IEnumerable<Cell> Leaves(IReadOnlySet<LatticePoint> known)
    {
        var stack = new Stack<Cell>(Lattice.InitialCells());
        while (stack.Count > 0)
        {
            var c = stack.Pop();
            if (c.Depth < Lattice.MaxDepth && known.Contains(Lattice.Centre(c)) && Lattice.RefinedPoints(c).All(known.Contains))
                foreach (var child in Lattice.Children(c)) stack.Push(child);
            else yield return c;
        }
    }
}

/// <summary>
/// The phase field estimated from sampled points: bilinear (linear on one axis) interpolation in
/// the leaf cell containing a point. Its threshold level set is the estimated regime boundary.
/// </summary>
public sealed class FieldEstimate
{
    private readonly Lattice _lattice;
    private readonly IReadOnlyDictionary<LatticePoint, double> _values;
    private readonly HashSet<LatticePoint> _known;

    public FieldEstimate(Lattice lattice, IReadOnlyDictionary<LatticePoint, double> values)
    {
        _lattice = lattice;
        _values = values;
        _known = values.Keys.ToHashSet();
    }

    /// <summary>The estimated metric at axis fractions (u, v) ∈ [0, 1]².</summary>
    public double At(double u, double v)
    {
        double x = Math.Clamp(u, 0, 1) * _lattice.Extent[0];
        double y = _lattice.Dims == 2 ? Math.Clamp(v, 0, 1) * _lattice.Extent[1] : 0;
        int s0 = _lattice.CellSize(0);
        var cell = new Cell(0, Math.Min((int)(x / s0) * s0, _lattice.Extent[0] - s0), _lattice.Dims == 2 ? Math.Min((int)(y / s0) * s0, _lattice.Extent[1] - s0) : 0);
        while (cell.Depth < _lattice.MaxDepth && _known.Contains(_lattice.Centre(cell)) && _lattice.RefinedPoints(cell).All(_known.Contains))
        {
            int h = _lattice.CellSize(cell.Depth) / 2;
            cell = new Cell(cell.Depth + 1, cell.I + (x >= cell.I + h ? h : 0), _lattice.Dims == 2 ? cell.J + (y >= cell.J + h ? h : 0) : 0);
        }
        int sz = _lattice.CellSize(cell.Depth);
        double fx = (x - cell.I) / sz;
        double Val(int a, int b) => _values[new LatticePoint(cell.I + a * sz, cell.J + b * sz)];
        if (_lattice.Dims == 1) return (1 - fx) * Val(0, 0) + fx * Val(1, 0);
        double fy = (y - cell.J) / sz;
        return (1 - fx) * (1 - fy) * Val(0, 0) + fx * (1 - fy) * Val(1, 0) + (1 - fx) * fy * Val(0, 1) + fx * fy * Val(1, 1);
    }
}
