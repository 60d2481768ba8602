using System.Text.Json.Nodes;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Grains;
using RichLazyOrleans.Results;
using Xunit;

namespace RichLazyOrleans.Grains.Tests;

/// <summary>Run rows to the result schema: every numeric value reaches its column, whatever CLR type holds it.</summary>
public class RunRowsTests
{
    [Fact]
    public void Integer_valued_metrics_and_spec_values_made_in_code_reach_their_columns()
    {
        var request = new RunRequest("s", "p0-s0", "rhm", "{}", 0, 0, 0, 0, "/tmp", null, null);
        // As the run kinds make them in process: longs for sample_complexity and train_size; a sweep's
        // YAML integer (alpha: 4) is a long too. (Parsed JSON holds JsonElements: both must work.) The columns
        // are the kind's declared outputs (train_size is one of rhm's, not a metric it refines on).
        var spec = new JsonObject { ["alpha"] = JsonValue.Create(4L) };
        var row = new JsonObject { ["step"] = 100L, ["sample_complexity"] = JsonValue.Create(1200L), ["train_size"] = JsonValue.Create(64L), ["test_accuracy"] = 0.5, ["status"] = "ok" };
        var parsed = JsonNode.Parse(row.ToJsonString())!.AsObject();
        foreach (var r in new[] { row, parsed })
        {
            var result = Assert.Single(RunRows.ToResultRows(request, spec, [r], default));
            Assert.Equal(1200, result.SampleComplexity);
            Assert.Equal(64, result.TrainSize);
            Assert.Equal(0.5, result.TestAccuracy);
            Assert.Null(result.Metric("val_accuracy"));   // not an rhm output
            Assert.Equal(4, result.Alpha);
            Assert.Equal(100, result.Step);
        }
    }

    [Fact]
    public async Task Timing_columns_reach_every_row_and_survive_the_trip_to_the_coordinator_and_parquet()
    {
        var request = new RunRequest("s", "p1_2-s0", "synthetic", "{}", 1, 2, 0, 0, "/tmp", null, null);
        var spec = new JsonObject { ["tau"] = 0.5, ["delta"] = 0.1 };
        var started = new DateTime(2026, 11, 30, 8, 0, 0, DateTimeKind.Utc).AddTicks(10 * 123_456);   // whole µs
        var times = new RunTimes(started, started.AddSeconds(1.25), 0.375, 1.25);
        var rows = RunRows.ToResultRows(request, spec,
            [new JsonObject { ["step"] = 0L }, new JsonObject { ["step"] = 5L }], times);
        Assert.All(rows, r => Assert.Equal((started, started.AddSeconds(1.25), 0.375, 1.25),
            (r.StartedAt, r.FinishedAt, r.QueuedSeconds, r.WallSeconds)));

        // Run grains send rows to the coordinator as JSON; it writes them to Parquet.
        string json = System.Text.Json.JsonSerializer.Serialize(rows);
        var viaJson = System.Text.Json.JsonSerializer.Deserialize<List<ResultRow>>(json)!;
        string dir = Directory.CreateTempSubdirectory("rl-runrows-").FullName;
        await ResultFiles.WriteRunAsync(dir, request.RunId, viaJson);
        var back = await ResultFiles.ReadRunAsync(ResultFiles.PathFor(dir, request.RunId));
        Assert.Equal(2, back.Count);
        foreach (var r in back)
        {
            Assert.Equal(DateTimeKind.Utc, r.StartedAt.Kind);
            Assert.Equal(started, r.StartedAt);
            Assert.Equal(started.AddSeconds(1.25), r.FinishedAt);
            Assert.Equal(0.375, r.QueuedSeconds);
            Assert.Equal(1.25, r.WallSeconds);
        }
    }
}
