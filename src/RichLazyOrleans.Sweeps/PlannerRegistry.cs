namespace RichLazyOrleans.Sweeps;

/// <summary>One planner a sweep spec may name with `planner:`.</summary>
/// <param name="Name">The name in the spec.</param>
/// <param name="Refines">The planner chooses points from the results: refine needs metric, threshold and budget,
/// adaptive seeds need refine and may go up to `max` per point. A planner that does not refine (a fixed design) takes
/// metric and threshold as optional (they only label points.parquet and the plots), budget as optional, and gives
/// each point `min` adaptive seeds.</param>
/// <param name="GridPoints">Checks a parsed spec for this planner and returns how many grid points the sweep will
/// have (checked against <see cref="SweepSpec.MaxPoints"/> and <see cref="SweepSpec.MaxRuns"/>); throws a one-line
/// <see cref="SpecException"/> naming the key for a spec the planner refuses. It sees refine.budget 0 where the
/// spec gives none; the parser then stores the count it returns as the budget.</param>
/// <param name="Create">A fresh planner for a spec that passed <paramref name="GridPoints"/>.</param>
public sealed record PlannerEntry(string Name, bool Refines, Func<SweepSpec, long> GridPoints,
    Func<SweepSpec, PlannerOptions?, ISweepPlanner> Create);

/// <summary>
/// The planners by name. A new planner is one class implementing <see cref="ISweepPlanner"/> (or deriving from
/// <see cref="DesignPlanner"/>, for a design fixed in advance) plus one line here; the spec parser, the
/// coordinator's restore and every tool find it through this table.
/// </summary>
public static class PlannerRegistry
{
    /// <summary>The planner of a spec without `planner:`.</summary>
    public const string Default = "boundary";

    private static readonly PlannerEntry[] Entries =
    [
        new("boundary", true, BoundaryPoints,
            (spec, options) =>
                new BoundaryPlanner(Lattice.For(spec), spec.Seeds, spec.SeedRange, spec.Refine, options)),
        new("grid", false, GridPlanner.GridPoints, (spec, _) => new GridPlanner(spec)),
        new("random", false, RandomPlanner.GridPoints, (spec, _) => new RandomPlanner(spec)),
    ];

    /// <summary>The known names, in the order listed in messages.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Entries.Select(e => e.Name)];

    public static PlannerEntry? Find(string name) => Entries.FirstOrDefault(e => e.Name == name);

    public static PlannerEntry Get(string name) => Find(name)
        ?? throw new ArgumentException($"unknown planner '{name}' (known: {string.Join(", ", Names)})");

    /// <summary>A fresh planner of the spec's kind.</summary>
    public static ISweepPlanner Create(SweepSpec spec, PlannerOptions? options = null) =>
        Get(spec.Planner).Create(spec, options);

    /// <summary>The boundary planner runs the initial lattice first, so its budget must cover it.</summary>
    private static long BoundaryPoints(SweepSpec spec)
    {
        if (spec.Refine is not { } r) return spec.InitialPoints;
        if (r.Budget < spec.InitialPoints)
            throw new SpecException($"key 'refine.budget': {r.Budget} grid points is below the initial lattice's "
                + $"{spec.InitialPoints}");
        return r.Budget;
    }
}
