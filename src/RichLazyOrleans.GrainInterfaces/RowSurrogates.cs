using RichLazyOrleans.Engine;

namespace RichLazyOrleans.GrainInterfaces;

// The engine's row types cross grains typed, through Orleans' own binary serializer: the engine library stays free
// of Orleans, so these surrogates (Orleans' way to serialize a type it does not own) say how.

[GenerateSerializer]
public struct RunRowSurrogate
{
    [Id(0)] public long Step;
    [Id(1)] public double? T;
    [Id(2)] public string Status;
    [Id(3)] public double WallSeconds;
    [Id(4)] public DateTime FinishedAt;
    [Id(5)] public long ResumedFromStep;
    [Id(6)] public double?[] Metrics;
}

[RegisterConverter]
public sealed class RunRowConverter : IConverter<RunRow, RunRowSurrogate>
{
    public RunRow ConvertFromSurrogate(in RunRowSurrogate s) =>
        new(s.Step, s.T, s.Status, s.WallSeconds, s.FinishedAt, s.ResumedFromStep, s.Metrics);

    public RunRowSurrogate ConvertToSurrogate(in RunRow r) => new()
    {
        Step = r.Step, T = r.T, Status = r.Status, WallSeconds = r.WallSeconds, FinishedAt = r.FinishedAt,
        ResumedFromStep = r.ResumedFromStep, Metrics = r.Metrics,
    };
}

[GenerateSerializer]
public struct RowBatchSurrogate
{
    [Id(0)] public string RunId;
    [Id(1)] public string Silo;
    [Id(2)] public DateTime StartedAt;
    [Id(3)] public double QueuedSeconds;
    [Id(4)] public RunRow[] Rows;
}

[RegisterConverter]
public sealed class RowBatchConverter : IConverter<RowBatch, RowBatchSurrogate>
{
    public RowBatch ConvertFromSurrogate(in RowBatchSurrogate s) =>
        new(s.RunId, s.Silo, s.StartedAt, s.QueuedSeconds, s.Rows);

    public RowBatchSurrogate ConvertToSurrogate(in RowBatch b) => new()
    {
        RunId = b.RunId, Silo = b.Silo, StartedAt = b.StartedAt, QueuedSeconds = b.QueuedSeconds,
        Rows = b.Rows as RunRow[] ?? [.. b.Rows],
    };
}
