using RichLazyOrleans.Engine;

namespace RichLazyOrleans.Grains;

/// <summary>A sweep's phase; <see cref="SweepPhases.Name"/> gives the contract's lower-case word.</summary>
public enum SweepPhase { New, Running, Cancelling, Finishing, Complete, Cancelled, Failed }

public static class SweepPhases
{
    /// <summary>State: "new", "running", "cancelling", "finishing", "complete", "cancelled", "failed".</summary>
    public static string Name(this SweepPhase phase) => phase.ToString().ToLowerInvariant();

    /// <summary>Phases in which the sweep is alive: runs, rows or a final save may still be outstanding.</summary>
    public static bool IsActive(this SweepPhase phase) =>
        phase is SweepPhase.Running or SweepPhase.Cancelling or SweepPhase.Finishing;
}

/// <summary>
/// What a sweep keeps in grain storage. Together with the Parquet files (the ledger of which
/// (run_id, step) rows exist) it is enough to restore the sweep on any silo: the spec, every run proposed
/// so far in the planner's order (what <see cref="Sweeps.SweepPlanner.Restore"/> replays), and the runs whose
/// rows are all on disk (written first, recorded second).
/// Ids 2-10 held the round-based layout of earlier builds and are not reused: such a saved state reads
/// as a sweep that never started (the files on disk still count when it is run again), not as garbage.
/// </summary>
[GenerateSerializer]
public sealed class SweepGrainState
{
    [Id(0)] public string SpecYaml { get; set; } = "";
    [Id(1)] public string ResultsDir { get; set; } = "";
    [Id(11)] public SweepPhase Phase { get; set; } = SweepPhase.New;
    /// <summary>While <see cref="SweepPhase.Finishing"/>: what the sweep ends as (Complete or Cancelled).</summary>
    [Id(12)] public SweepPhase FinishingAs { get; set; } = SweepPhase.Complete;
    [Id(13)] public List<ProposedRun> Proposed { get; set; } = [];
    [Id(14)] public Dictionary<string, FinishedRun> Finished { get; set; } = [];
    [Id(15)] public string? Message { get; set; }
    [Id(16)] public double ElapsedSeconds { get; set; }
    [Id(17)] public int Recoveries { get; set; }
    [Id(18)] public int Redispatched { get; set; }
    [Id(19)] public int RowsWritten { get; set; }
    /// <summary>Lines `command` programs printed that were not rows, over the runs told so far.</summary>
    [Id(20)] public int IgnoredLines { get; set; }
    /// <summary>Why the sweep stopped early: its first runs all failed alike (max_failures); null otherwise.</summary>
    [Id(21)] public string? FailedFast { get; set; }
}
