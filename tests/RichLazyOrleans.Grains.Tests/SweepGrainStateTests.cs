using RichLazyOrleans.Engine;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using RichLazyOrleans.Grains;

namespace RichLazyOrleans.Grains.Tests;

/// <summary>The round-based layout of SweepGrainState before issue 11 (ids 0-10), as earlier builds saved it.</summary>
[GenerateSerializer]
public sealed class RoundBasedSweepState
{
    [Id(0)] public string SpecYaml { get; set; } = "";
    [Id(1)] public string ResultsDir { get; set; } = "";
    [Id(2)] public string State { get; set; } = "new";
    [Id(3)] public int Depth { get; set; }
    [Id(4)] public List<RoundBasedPoint> Points { get; set; } = [];
    [Id(5)] public Dictionary<string, RoundBasedFinished> Finished { get; set; } = [];
    [Id(6)] public string? Message { get; set; }
    [Id(7)] public double ElapsedSeconds { get; set; }
    [Id(8)] public int Recoveries { get; set; }
    [Id(9)] public int Redispatched { get; set; }
    [Id(10)] public int RowsWritten { get; set; }
}

[GenerateSerializer, Immutable]
public sealed record RoundBasedPoint([property: Id(0)] int I, [property: Id(1)] int J, [property: Id(2)] int Depth);

[GenerateSerializer, Immutable]
public sealed record RoundBasedFinished([property: Id(0)] int I, [property: Id(1)] int J,
    [property: Id(2)] bool Succeeded, [property: Id(3)] double? Metric, [property: Id(4)] string? Error);

public class SweepGrainStateTests
{
    private static readonly Serializer Serializer =
        new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    [Fact]
    public void The_typed_state_round_trips_in_orleans_binary_format()
    {
        var state = new SweepGrainState
        {
            SpecYaml = "name: s", ResultsDir = "/out", Phase = SweepPhase.Finishing, FinishingAs = SweepPhase.Cancelled,
            Proposed = [new(0, 0, 1), new(4, 8, 2)], Finished = { ["p0_0-s1"] = new(0, 0, 1, true, 0.25, null) },
            Message = "m", ElapsedSeconds = 1.5, Recoveries = 2, Redispatched = 3, RowsWritten = 4,
        };
        var back = Serializer.Deserialize<SweepGrainState>(Serializer.SerializeToArray(state))!;
        Assert.Equal((SweepPhase.Finishing, SweepPhase.Cancelled, "/out", 1.5, 2, 3, 4), (back.Phase, back.FinishingAs,
            back.ResultsDir, back.ElapsedSeconds, back.Recoveries, back.Redispatched, back.RowsWritten));
        Assert.Equal(state.Proposed, back.Proposed);
        Assert.Equal(state.Finished["p0_0-s1"], back.Finished["p0_0-s1"]);
    }

    [Fact]
    public void A_state_saved_by_the_round_based_build_reads_as_a_sweep_that_never_started()
    {
        var old = new RoundBasedSweepState
        {
            SpecYaml = "name: s", ResultsDir = "/out", State = "running", Depth = 2, Points = [new(0, 0, 0)],
            Finished = { ["p0_0-s0"] = new(0, 0, true, 0.5, null) }, Message = "x", ElapsedSeconds = 9, RowsWritten = 7,
        };
        var back = Serializer.Deserialize<SweepGrainState>(Serializer.SerializeToArray(old))!;
        Assert.Equal(SweepPhase.New, back.Phase);   // Start runs it again; the rows on disk count as written
        Assert.Equal(("name: s", "/out"), (back.SpecYaml, back.ResultsDir));
        Assert.Empty(back.Proposed);
        Assert.Empty(back.Finished);
        Assert.Equal(0, back.RowsWritten);
    }
}
