namespace RichLazyOrleans.Engine;

/// <summary>
/// When a run executed, for its rows: <paramref name="StartedAt"/> and <paramref name="FinishedAt"/> in UTC
/// (FinishedAt: the end of the execution, or for a row streamed before the end the moment it was
/// produced), <paramref name="QueuedSeconds"/> waiting for a slot, and <paramref name="WallSeconds"/>
/// executing on it up to FinishedAt (measured on a monotonic clock, so a wall-clock step cannot skew it).
/// </summary>
public readonly record struct RunTimes(
    DateTime StartedAt, DateTime FinishedAt, double QueuedSeconds, double WallSeconds);

/// <summary>
/// One row a run produced, typed: only what changes from row to row. What is the same on every row of a run (its
/// ids, axis values, seed, spec) travels once per batch or not at all (<see cref="RunColumns"/>: the coordinator
/// knows it). <paramref name="Metrics"/> hold the run's metric values in the order of its schema's metrics
/// (<see cref="SweepSchema.MetricsOf"/>), null where the row has none.
/// </summary>
public sealed record RunRow(long Step, double? T, string Status, double WallSeconds, DateTime FinishedAt,
    long ResumedFromStep, double?[] Metrics)
{
    /// <summary>The row with the times of the end of its run (a row reported when the run ends).</summary>
    public RunRow At(RunTimes end) => this with { WallSeconds = end.WallSeconds, FinishedAt = end.FinishedAt };
}

/// <summary>
/// Rows of one attempt of a run, as they travel from the run to its coordinator (each row once): the attempt's
/// start, wait and silo, and the rows in the order produced.
/// </summary>
public sealed record RowBatch(string RunId, string Silo, DateTime StartedAt, double QueuedSeconds,
    IReadOnlyList<RunRow> Rows)
{
    public static RowBatch Empty(string runId) => new(runId, "", default, 0, []);
}
