namespace RichLazyOrleans.Engine;

// The records a sweep's runs are made of. Plain records: Orleans carries them between grains and keeps them in
// grain state through the surrogates in RichLazyOrleans.GrainInterfaces (EngineSurrogates.cs).

/// <summary>One run of a sweep: a grid point, a seed and the full spec for the run kind.</summary>
/// <param name="Axes">The sweep's axis names: each becomes a result column.</param>
public sealed record RunRequest(string SweepId, string RunId, string Kind, string SpecJson, int LatticeI, int LatticeJ,
    int Depth, long Seed, string ResultsDir, string? Metric, string? TraceParent = null, string[]? Axes = null);

/// <summary>
/// What a finished run reports back to its coordinator: how it ended and the rows it had not sent yet
/// (<paramref name="Tail"/>; rows sent before as progress are not sent again). <paramref name="Rows"/> counts every
/// row of the attempt.
/// </summary>
/// <paramref name="IgnoredLines"/> counts lines a `command` program printed that were not rows.
public sealed record RunResult(string RunId, bool Succeeded, string Status, double? MetricValue, int Rows,
    double WallSeconds, string? Error, string Silo, RowBatch Tail, int IgnoredLines = 0);

/// <summary>A run the planner proposed: lattice point and seed (its depth follows from the point).</summary>
public sealed record ProposedRun(int I, int J, long Seed);

/// <summary>A run whose rows are all on disk: where, which seed, and what it told the planner.</summary>
public sealed record FinishedRun(int I, int J, long Seed, bool Succeeded, double? Metric, string? Error);
