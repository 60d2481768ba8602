using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using RichLazyOrleans.Engine;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Results;
using RichLazyOrleans.RunKinds;
using Xunit;

namespace RichLazyOrleans.Grains.Tests;

/// <summary>The typed row path: a kind's JSON row → <see cref="RunRow"/> (run side) → Orleans' binary serializer
/// → joined to the run's columns (coordinator) → Parquet. Every value reaches its column, whatever CLR type held
/// it, and the times survive the whole trip.</summary>
public class RunRowsTests
{
    private static readonly Serializer Orleans =
        new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(RunRowConverter).Assembly))
            .BuildServiceProvider().GetRequiredService<Serializer>();

    private static RunColumns Columns(string kind, JsonObject spec, string runId = "p0-s0", string[]? axes = null) =>
        new("s", runId, kind, spec, axes ?? [], 0, 0, 1, 2,
            SweepSchema.MetricsOf(RunKindRegistry.Get(kind), spec));

    [Fact]
    public void Integer_valued_metrics_and_spec_values_made_in_code_reach_their_columns()
    {
        // As the run kinds make them in process: longs for sample_complexity and train_size; a sweep's
        // YAML integer (alpha: 4) is a long too. (Parsed JSON holds JsonElements: both must work.) The columns
        // are the kind's declared outputs (train_size is one of rhm's, not a metric it refines on).
        var spec = new JsonObject { ["alpha"] = JsonValue.Create(4L), ["tau"] = 1.0 };
        var row = new JsonObject { ["step"] = 100L, ["sample_complexity"] = JsonValue.Create(1200L),
            ["train_size"] = JsonValue.Create(64L), ["test_accuracy"] = 0.5, ["status"] = "ok" };
        var parsed = JsonNode.Parse(row.ToJsonString())!.AsObject();
        var factory = new RowFactory(RunKindRegistry.Get("rhm"), spec);
        foreach (var r in new[] { row, parsed })
        {
            var typed = factory.Make(r, 0, default);
            var result = Assert.Single(
                Columns("rhm", spec).Compose(new RowBatch("p0-s0", "silo", default, 0, [typed])));
            Assert.Equal(1200, result.SampleComplexity);
            Assert.Equal(64, result.TrainSize);
            Assert.Equal(0.5, result.TestAccuracy);
            Assert.False(result.Extra!.ContainsKey("val_accuracy"));   // not an rhm output: no column at all
            Assert.Equal(4, result.Alpha);
            Assert.Equal(1.0 / 16 - 16, result.Delta!.Value, 12);   // τ²(1/α² − α²) from tau and alpha, not sent
            Assert.Equal(100, result.Step);
        }
    }

    [Fact]
    public void A_command_runs_rows_carry_only_its_declared_metrics()
    {
        var spec = new JsonObject { ["command"] = new JsonArray("true"), ["metrics"] = new JsonArray("loss", "acc"),
            ["lr"] = 0.1 };
        var factory = new RowFactory(RunKindRegistry.Get("command"), spec);
        var typed = factory.Make(new JsonObject { ["step"] = 3L, ["loss"] = 0.5, ["other"] = 9.0 }, 0, default);
        Assert.Equal([0.5, null], typed.Metrics);
        var r = Assert.Single(Columns("command", spec, axes: ["lr"]).Compose(new("p0-s0", "x", default, 0, [typed])));
        Assert.Equal(["acc", "loss", "lr"], r.Extra!.Keys.Order());
        Assert.Equal(0.1, r.Metric("lr"));
    }

    [Fact]
    public async Task Timing_columns_reach_every_row_and_survive_the_trip_to_the_coordinator_and_parquet()
    {
        var spec = new JsonObject { ["tau"] = 0.5, ["delta"] = 0.1 };
        var started = new DateTime(2026, 11, 30, 8, 0, 0, DateTimeKind.Utc).AddTicks(10 * 123_456);   // whole µs
        var times = new RunTimes(started, started.AddSeconds(1.25), 0.375, 1.25);
        var factory = new RowFactory(RunKindRegistry.Get("synthetic"), spec);
        RunRow[] rows = [factory.Make(new JsonObject { ["step"] = 0L, ["value"] = 0.25 }, 0, times),
            factory.Make(new JsonObject { ["step"] = 5L, ["value"] = double.NaN }, 1, times)];
        var batch = new RowBatch("p1_2-s0", "silo-a", started, 0.375, rows);

        // Run grains send rows to the coordinator typed, through Orleans' serializer (the surrogates).
        var back = Orleans.Deserialize<RowBatch>(Orleans.SerializeToArray(batch))!;
        Assert.Equal(("p1_2-s0", "silo-a", started, 0.375),
            (back.RunId, back.Silo, back.StartedAt, back.QueuedSeconds));
        Assert.Equal(rows.Select(r => (r.Step, r.Status, r.WallSeconds, r.FinishedAt)),
            back.Rows.Select(r => (r.Step, r.Status, r.WallSeconds, r.FinishedAt)));
        Assert.Equal(0.25, back.Rows[0].Metrics[0]);
        Assert.True(double.IsNaN(back.Rows[1].Metrics[0]!.Value));

        var composed = Columns("synthetic", spec, "p1_2-s0").Compose(back).ToList();
        string dir = Directory.CreateTempSubdirectory("rl-runrows-").FullName;
        await ResultFiles.WriteRunAsync(dir, "p1_2-s0", composed);
        var read = await ResultFiles.ReadRunAsync(ResultFiles.PathFor(dir, "p1_2-s0"));
        Assert.Equal(2, read.Count);
        foreach (var r in read)
        {
            Assert.Equal(DateTimeKind.Utc, r.StartedAt.Kind);
            Assert.Equal(started, r.StartedAt);
            Assert.Equal(started.AddSeconds(1.25), r.FinishedAt);
            Assert.Equal(0.375, r.QueuedSeconds);
            Assert.Equal(1.25, r.WallSeconds);
            Assert.Equal(("silo-a", 1, 2), (r.Silo, r.LatticeI, r.LatticeJ));
        }
    }

    [Fact]
    public void The_buffer_sends_each_row_once_in_bounded_batches_and_keeps_rows_a_failed_send_did_not_deliver()
    {
        var spec = new JsonObject { ["tau"] = 0.5, ["delta"] = 0.1 };
        var clock = new RunClock();
        clock.Begin();
        var buffer = new RunRowBuffer(new RowFactory(RunKindRegistry.Get("synthetic"), spec), clock);
        int n = RunRowBuffer.MaxBatch * 2 + 7;
        for (int i = 0; i < n; i++) buffer.Add(new JsonObject { ["step"] = (long)i, ["value"] = i });
        var first = buffer.Peek("r", "s")!;
        Assert.Equal(RunRowBuffer.MaxBatch, first.Rows.Count);
        var again = buffer.Peek("r", "s")!;   // not acknowledged: the same rows again
        Assert.Equal(first.Rows.Select(r => r.Step), again.Rows.Select(r => r.Step));
        buffer.Sent(first);
        var sent = new List<long>(first.Rows.Select(r => r.Step));
        while (buffer.Peek("r", "s") is { } b) { sent.AddRange(b.Rows.Select(r => r.Step)); buffer.Sent(b); }
        Assert.Equal(Enumerable.Range(0, n).Select(i => (long)i), sent);
        // The kind's returned list repeats the streamed rows: none is added twice.
        clock.End();
        buffer.Finish([.. Enumerable.Range(0, n).Select(i => new JsonObject { ["step"] = (long)i, ["value"] = i })]);
        Assert.Null(buffer.Peek("r", "s"));
        Assert.Equal(n, buffer.Count);
    }
}
