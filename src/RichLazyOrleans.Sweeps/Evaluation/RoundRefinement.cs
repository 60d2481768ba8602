namespace RichLazyOrleans.Sweeps.Evaluation;

/// <summary>
/// The round-based refinement sweeps used before the boundary-seeking planner (issue 11), kept only as the baseline
/// `richlazy bench sampler` compares against. Deterministic and stateless:
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
public sealed class RoundRefinement(Lattice lattice, double threshold, int budget)
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
            if (c.Depth < Lattice.MaxDepth && known.Contains(Lattice.Centre(c))
                && Lattice.RefinedPoints(c).All(known.Contains))
                foreach (var child in Lattice.Children(c)) stack.Push(child);
            else yield return c;
        }
    }

    /// <summary>Runs the rounds against a known field (every point measured before the next round, as sweeps did).
    /// </summary>
    public static Dictionary<LatticePoint, double> Sample(Lattice lattice, double threshold, int budget,
        Func<double, double, double> field)
    {
        var refinement = new RoundRefinement(lattice, threshold, budget);
        var values = lattice.InitialPoints().ToDictionary(p => p,
            p => { var (u, v) = lattice.Fractions(p); return field(u, v); });
        for (int depth = 0; depth < lattice.MaxDepth; depth++)
            foreach (var p in refinement.NextRound(values, depth))
            { var (u, v) = lattice.Fractions(p); values[p] = field(u, v); }
        return values;
    }
}
