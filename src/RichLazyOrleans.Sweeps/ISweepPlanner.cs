namespace RichLazyOrleans.Sweeps;

/// <summary>A run the planner wants: a lattice point and a seed. Order is its place in the proposal sequence
/// (0, 1, …).</summary>
public readonly record struct PlannedRun(LatticePoint Point, long Seed, int Depth, int Order);

/// <summary>What is known of one grid point: its seed mean, standard error and how it was sampled.</summary>
/// <param name="Mean">Mean of the finite metric values told so far (NaN when none).</param>
/// <param name="StdError">Standard error of <paramref name="Mean"/> (NaN with fewer than two values).</param>
/// <param name="Seeds">Finite values told so far.</param>
/// <param name="Order">Order of the point's first proposed run.</param>
public sealed record PointSummary(LatticePoint Point, int Depth, double Mean, double StdError, int Seeds, int Proposed,
    int Order);

/// <summary>
/// Decides what runs next (ask/tell, in the spirit of python-adaptive's learners). Pure: no Orleans, no clock, no
/// randomness beyond a fixed function of the spec; <see cref="Ask"/> is a function of the runs proposed so far (in
/// order) and the results told so far, so a planner rebuilt with <see cref="SweepPlanner.Restore"/> from the same
/// history proposes the same runs. Made by name through <see cref="PlannerRegistry"/> (the spec's `planner:`).
/// </summary>
public interface ISweepPlanner
{
    /// <summary>
    /// Up to <paramref name="n"/> runs worth doing next, most valuable first; they count as pending until told.
    /// Fewer (or none) when nothing more is worth doing until pending results come back.
    /// </summary>
    IReadOnlyList<PlannedRun> Ask(int n);

    /// <summary>
    /// Replays one proposal of a saved history, in the order it was first proposed (what
    /// <see cref="SweepPlanner.Restore"/> does through this interface only): the run counts as proposed and pending
    /// exactly as if <see cref="Ask"/> had returned it; a run already proposed is ignored. Throws
    /// <see cref="ArgumentException"/> for a run this planner could not have proposed (a seed it never hands out, a
    /// point outside its design), so a history from another planner or spec is never silently mixed in.
    /// </summary>
    void MarkProposed(LatticePoint point, long seed);

    /// <summary>A finished run: its metric (seed value at its last row), or null when it failed or has none.</summary>
    void Tell(LatticePoint point, long seed, double? metric);

    /// <summary>Every run proposed so far, in order.</summary>
    IReadOnlyList<PlannedRun> Proposed { get; }

    /// <summary>Runs proposed and not yet told.</summary>
    int Pending { get; }

    /// <summary>Nothing pending and nothing more to propose: the sweep is done.</summary>
    bool IsComplete { get; }

    /// <summary>Every grid point proposed so far, in the order first proposed.</summary>
    IReadOnlyList<PointSummary> Points();
}
