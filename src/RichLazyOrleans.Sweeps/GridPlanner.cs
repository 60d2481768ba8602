namespace RichLazyOrleans.Sweeps;

/// <summary>
/// `planner: grid`, for reference sweeps: every point of the lattice at the finest spacing (refine.max_depth, 0
/// without refine), ((n_i − 1)·2^max_depth + 1) per axis, each with every seed. Proposed coarse to fine (the initial
/// lattice, then each depth's new points, in lattice order), so a reference sweep watched or stopped early already
/// covers the whole domain at a coarser spacing. `budget` is not a cap here: a reference cut short would leave the
/// finest level half done, so a budget below the full lattice is refused (one larger is allowed, and binds nothing).
/// </summary>
public sealed class GridPlanner(SweepSpec spec) : DesignPlanner(spec)
{
    protected override string Name => "grid";

    /// <summary>The registry's spec check: the full lattice's point count, or a one-line refusal.</summary>
    public static long GridPoints(SweepSpec spec)
    {
        long full = FullLatticePoints(spec);
        int depth = spec.Refine?.MaxDepth ?? 0;
        if (full > SweepSpec.MaxPoints)
            throw new SpecException($"key 'planner': grid runs the full lattice, {full} grid points at max_depth "
                + $"{depth}, more than a sweep may have ({SweepSpec.MaxPoints}); lower refine.max_depth or "
                + "grid.initial");
        if (spec.Refine is { Budget: > 0 } r && r.Budget < full)
            throw new SpecException($"key 'refine.budget': planner 'grid' runs all {full} points of the lattice "
                + $"(a reference is not cut short); budget {r.Budget} is below that: raise it or leave it out");
        return full;
    }

    protected override IReadOnlyList<LatticePoint> MakeDesign()
    {
        var design = new List<LatticePoint>();
        int maxJ = Lattice.Dims == 2 ? Lattice.Extent[1] : 0;
        for (int depth = 0; depth <= Lattice.MaxDepth; depth++)
        {
            int s = Lattice.CellSize(depth);
            for (int i = 0; i <= Lattice.Extent[0]; i += s)
                for (int j = 0; j <= maxJ; j += s)
                    // A point of a coarser depth has both coordinates multiples of 2s; it was proposed already.
                    if (depth == 0 || i % (2 * s) != 0 || j % (2 * s) != 0) design.Add(new LatticePoint(i, j));
        }
        return design;
    }
}
