namespace RichLazyOrleans.Sweeps;

/// <summary>Makes the planner for a sweep spec (the one its `planner:` names, through
/// <see cref="PlannerRegistry"/>), fresh or restored from its history.</summary>
public static class SweepPlanner
{
    public static ISweepPlanner Create(SweepSpec spec, PlannerOptions? options = null) =>
        PlannerRegistry.Create(spec, options);

    /// <summary>
    /// A planner that has proposed <paramref name="proposed"/> (in this order) and been told
    /// <paramref name="results"/>: it proposes what the original would propose next. Only the interface is used,
    /// so every registered planner restores the same way.
    /// </summary>
    public static ISweepPlanner Restore(SweepSpec spec, IEnumerable<(LatticePoint Point, long Seed)> proposed,
        IEnumerable<(LatticePoint Point, long Seed, double? Metric)> results, PlannerOptions? options = null)
    {
        var planner = Create(spec, options);
        foreach (var (p, seed) in proposed) planner.MarkProposed(p, seed);
        foreach (var (p, seed, metric) in results) planner.Tell(p, seed, metric);
        return planner;
    }
}
