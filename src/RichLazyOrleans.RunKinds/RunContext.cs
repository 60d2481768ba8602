namespace RichLazyOrleans.RunKinds;

/// <summary>
/// Where a run executes, for kinds that hand it on (the `command` kind's environment). <see cref="Attempt"/> counts
/// from 1 (2, 3, … after a move or resume); <see cref="Slot"/> is the silo slot index; <see cref="Gpu"/> the slot's
/// device ordinal ("0"), null on a CPU slot; <see cref="LogPath"/> the file a program's stderr is appended to, null
/// to pass it through to the caller's log.
/// </summary>
public sealed record RunContext(string SweepId, string RunId, int Attempt = 1, int Slot = 0, string? Gpu = null,
    string? LogPath = null)
{
    /// <summary>A run outside any sweep (`richlazy run`).</summary>
    public static RunContext Standalone => new("", "run");

    /// <summary>What the kind noticed along the way, for the run's report (shared by copies of this context).</summary>
    public RunCounts Counts { get; init; } = new();
}

/// <summary>Counts a run's kind keeps for its report: <see cref="IgnoredLines"/>, lines of a `command` program's
/// stdout that were not rows.</summary>
public sealed class RunCounts
{
    public int IgnoredLines { get; set; }
}
