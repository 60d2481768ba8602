namespace RichLazyOrleans.Grains;

/// <summary>What a run grain keeps in grain storage (resumable kinds only): where it stands and where its checkpoints
/// are.</summary>
[GenerateSerializer]
public sealed class RunGrainState
{
    /// <summary>queued, running, interrupted, done, failed.</summary>
    [Id(0)] public string Status { get; set; } = "new";
    [Id(1)] public string? Silo { get; set; }
    /// <summary>How many times an activation started this run (more than 1: it was moved or resumed).</summary>
    [Id(2)] public int Attempts { get; set; }
    [Id(3)] public string? CheckpointDir { get; set; }
    [Id(4)] public long ResumedFromStep { get; set; }
    [Id(5)] public string? Error { get; set; }
    [Id(6)] public DateTime UpdatedUtc { get; set; }
}

/// <summary>Grain storage names (one provider: memory when embedded, Redis in a cluster).</summary>
public static class StorageNames
{
    public const string Default = "richlazy";
}
