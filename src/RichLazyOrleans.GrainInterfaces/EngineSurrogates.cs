using RichLazyOrleans.Engine;

namespace RichLazyOrleans.GrainInterfaces;

// The engine's run records cross grains and live in grain state through Orleans' binary serializer: the engine
// library stays free of Orleans, and these surrogates (Orleans' way to serialize a type it does not own) say how.
// Field ids are the ones the records had when they were declared here, so stored sweep states still read.

[GenerateSerializer]
public struct RunRequestSurrogate
{
    [Id(0)] public string SweepId;
    [Id(1)] public string RunId;
    [Id(2)] public string Kind;
    [Id(3)] public string SpecJson;
    [Id(4)] public int LatticeI;
    [Id(5)] public int LatticeJ;
    [Id(6)] public int Depth;
    [Id(7)] public long Seed;
    [Id(8)] public string ResultsDir;
    [Id(9)] public string? Metric;
    [Id(10)] public string? TraceParent;
    [Id(11)] public string[]? Axes;
}

[RegisterConverter]
public sealed class RunRequestConverter : IConverter<RunRequest, RunRequestSurrogate>
{
    public RunRequest ConvertFromSurrogate(in RunRequestSurrogate s) => new(s.SweepId, s.RunId, s.Kind, s.SpecJson,
        s.LatticeI, s.LatticeJ, s.Depth, s.Seed, s.ResultsDir, s.Metric, s.TraceParent, s.Axes);

    public RunRequestSurrogate ConvertToSurrogate(in RunRequest r) => new()
    {
        SweepId = r.SweepId, RunId = r.RunId, Kind = r.Kind, SpecJson = r.SpecJson, LatticeI = r.LatticeI,
        LatticeJ = r.LatticeJ, Depth = r.Depth, Seed = r.Seed, ResultsDir = r.ResultsDir, Metric = r.Metric,
        TraceParent = r.TraceParent, Axes = r.Axes,
    };
}

[GenerateSerializer]
public struct RunResultSurrogate
{
    [Id(0)] public string RunId;
    [Id(1)] public bool Succeeded;
    [Id(2)] public string Status;
    [Id(3)] public double? MetricValue;
    [Id(4)] public int Rows;
    [Id(5)] public double WallSeconds;
    [Id(6)] public string? Error;
    [Id(7)] public string Silo;
    [Id(8)] public RowBatch Tail;
    [Id(9)] public int IgnoredLines;
}

[RegisterConverter]
public sealed class RunResultConverter : IConverter<RunResult, RunResultSurrogate>
{
    public RunResult ConvertFromSurrogate(in RunResultSurrogate s) =>
        new(s.RunId, s.Succeeded, s.Status, s.MetricValue, s.Rows, s.WallSeconds, s.Error, s.Silo, s.Tail,
            s.IgnoredLines);

    public RunResultSurrogate ConvertToSurrogate(in RunResult r) => new()
    {
        RunId = r.RunId, Succeeded = r.Succeeded, Status = r.Status, MetricValue = r.MetricValue, Rows = r.Rows,
        WallSeconds = r.WallSeconds, Error = r.Error, Silo = r.Silo, Tail = r.Tail, IgnoredLines = r.IgnoredLines,
    };
}

[GenerateSerializer]
public struct ProposedRunSurrogate
{
    [Id(0)] public int I;
    [Id(1)] public int J;
    [Id(2)] public long Seed;
}

[RegisterConverter]
public sealed class ProposedRunConverter : IConverter<ProposedRun, ProposedRunSurrogate>
{
    public ProposedRun ConvertFromSurrogate(in ProposedRunSurrogate s) => new(s.I, s.J, s.Seed);
    public ProposedRunSurrogate ConvertToSurrogate(in ProposedRun r) => new() { I = r.I, J = r.J, Seed = r.Seed };
}

[GenerateSerializer]
public struct FinishedRunSurrogate
{
    [Id(0)] public int I;
    [Id(1)] public int J;
    [Id(2)] public long Seed;
    [Id(3)] public bool Succeeded;
    [Id(4)] public double? Metric;
    [Id(5)] public string? Error;
}

[RegisterConverter]
public sealed class FinishedRunConverter : IConverter<FinishedRun, FinishedRunSurrogate>
{
    public FinishedRun ConvertFromSurrogate(in FinishedRunSurrogate s) =>
        new(s.I, s.J, s.Seed, s.Succeeded, s.Metric, s.Error);

    public FinishedRunSurrogate ConvertToSurrogate(in FinishedRun r) => new()
    {
        I = r.I, J = r.J, Seed = r.Seed, Succeeded = r.Succeeded, Metric = r.Metric, Error = r.Error,
    };
}

/// <summary>Bad input crosses a grain call as itself (a client catches <see cref="SpecException"/>, whatever refused
/// the spec and wherever).</summary>
[GenerateSerializer]
public struct SpecExceptionSurrogate
{
    [Id(0)] public string Message;
    [Id(1)] public string? Key;
}

[RegisterConverter]
public sealed class SpecExceptionConverter : IConverter<SpecException, SpecExceptionSurrogate>
{
    public SpecException ConvertFromSurrogate(in SpecExceptionSurrogate s) => SpecException.Restore(s.Message, s.Key);
    public SpecExceptionSurrogate ConvertToSurrogate(in SpecException e) => new() { Message = e.Message, Key = e.Key };
}
