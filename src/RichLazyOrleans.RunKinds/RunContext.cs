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
    public static RunContext Standalone { get; } = new("", "run");
}
