using Parquet;
using Parquet.Schema;
using RichLazyOrleans.Results;

namespace RichLazyOrleans.Results.Tests;

public class ResultFilesTests
{
    private static ResultRow Row(string run, long step, double? kd) => new()
    {
        SweepId = "s", RunId = run, Kind = "synthetic", Tau = 0.5, Delta = -0.25, Alpha = 1.1, Seed = 7, Step = step,
        Depth = 2, Status = "ok", WallSeconds = 0.01, KernelDistance = kd, Value = 0.3,
    };

    [Fact]
    public async Task Files_have_the_contract_columns_with_typed_values()
    {
        string dir = Directory.CreateTempSubdirectory("rl-results-").FullName;
        // The metric columns a sweep's files get: what the kinds declare (RunKindRegistry.MetricColumns); here the
        // contract's teacher-student metrics.
        string[] metrics = ["kernel_distance", "train_loss", "test_loss", "hamming_distance", "parameter_distance",
            "delta_drift"];
        await ResultFiles.WriteRunAsync(dir, "run-a", [Row("run-a", 0, 0.0), Row("run-a", 10, 0.25)], extras: metrics);
        await using var fs = File.OpenRead(ResultFiles.PathFor(dir, "run-a"));
        await using var reader = await ParquetReader.CreateAsync(fs);
        var fields = reader.Schema.GetDataFields().ToDictionary(f => f.Name);
        foreach (var name in new[] { "sweep_id", "run_id", "kind", "tau", "delta", "alpha", "seed", "step", "depth",
            "status", "wall_seconds", "resumed_from_step", "kernel_distance", "train_loss", "test_loss",
            "hamming_distance", "parameter_distance", "delta_drift" })
            Assert.True(fields.ContainsKey(name), $"missing column {name}");
        Assert.Equal(typeof(long), fields["step"].ClrType);
        Assert.Equal(typeof(long), fields["resumed_from_step"].ClrType);
        Assert.Equal(typeof(double), fields["kernel_distance"].ClrType);
        // UTF-8 string column
        Assert.Contains(fields["run_id"].ClrType, new[] { typeof(string), typeof(ReadOnlyMemory<char>) });
        var back = await ResultFiles.ReadRunAsync(ResultFiles.PathFor(dir, "run-a"));
        Assert.Equal([0L, 10L], back.Select(r => r.Step));
        Assert.Equal(0.25, back[1].KernelDistance);
        Assert.Null(back[1].TrainLoss);
    }

    [Fact]
    public async Task Timing_columns_are_utc_timestamps_and_round_trip()
    {
        string dir = Directory.CreateTempSubdirectory("rl-results-").FullName;
        // Microsecond resolution: sub-microsecond ticks are dropped, so the test uses whole microseconds.
        var started = new DateTime(2026, 11, 30, 12, 34, 56, DateTimeKind.Utc).AddTicks(1234560);
        var finished = started.AddSeconds(2.5);
        var row = Row("run-t", 0, 0.1);
        row.StartedAt = started;
        row.FinishedAt = finished;
        row.QueuedSeconds = 0.75;
        row.WallSeconds = 2.5;
        await ResultFiles.WriteRunAsync(dir, "run-t", [row]);

        await using (var fs = File.OpenRead(ResultFiles.PathFor(dir, "run-t")))
        {
            await using var reader = await ParquetReader.CreateAsync(fs);
            var fields = reader.Schema.GetDataFields().ToDictionary(f => f.Name);
            Assert.Equal(typeof(double), fields["queued_seconds"].ClrType);
            // A Parquet TIMESTAMP (INT64, microseconds, adjusted to UTC) rather than the legacy INT96, so
            // DuckDB, pandas/pyarrow and hyparquet read a UTC timestamp.
            foreach (var name in new[] { "started_at", "finished_at" })
            {
                var f = Assert.IsType<DateTimeDataField>(fields[name]);
                Assert.Equal(DateTimeFormat.Timestamp, f.DateTimeFormat);
                Assert.Equal(DateTimeTimeUnit.Micros, f.Unit);
                Assert.True(f.IsAdjustedToUTC);
            }
            // The file's own schema (Thrift metadata), as other readers see it: INT64 with the TIMESTAMP logical type.
            foreach (var element in reader.Metadata!.Schema.Where(e => e.Name is "started_at" or "finished_at"))
            {
                Assert.Equal(Parquet.Meta.Type.INT64, element.Type);
                Assert.NotNull(element.LogicalType?.TIMESTAMP);
                Assert.True(element.LogicalType!.TIMESTAMP!.IsAdjustedToUTC);
                Assert.NotNull(element.LogicalType.TIMESTAMP.Unit.MICROS);
            }
            Assert.Equal(2, reader.Metadata.Schema.Count(e => e.Name is "started_at" or "finished_at"));
        }

        var back = Assert.Single(await ResultFiles.ReadRunAsync(ResultFiles.PathFor(dir, "run-t")));
        Assert.Equal(DateTimeKind.Utc, back.StartedAt.Kind);
        Assert.Equal(started, back.StartedAt);
        Assert.Equal(finished, back.FinishedAt);
        Assert.Equal(0.75, back.QueuedSeconds);
        Assert.Equal(2.5, back.WallSeconds);
    }

    [Fact]
    public async Task Rewriting_a_run_replaces_it_and_no_temporary_file_is_visible()
    {
        string dir = Directory.CreateTempSubdirectory("rl-results-").FullName;
        await ResultFiles.WriteRunAsync(dir, "r1", [Row("r1", 0, 0.1)]);
        await ResultFiles.WriteRunAsync(dir, "r1", [Row("r1", 0, 0.2)]);   // a retry
        await ResultFiles.WriteRunAsync(dir, "r2", [Row("r2", 0, 0.3)]);
        var all = await ResultFiles.ReadAllAsync(dir);
        Assert.Equal(2, all.Count);
        Assert.Equal(0.2, all.Single(r => r.RunId == "r1").KernelDistance);
        Assert.Equal(["r1.parquet", "r2.parquet"],
            Directory.GetFiles(ResultFiles.RunsDirectory(dir)).Select(Path.GetFileName).Order());
        await Assert.ThrowsAsync<ArgumentException>(() =>
            ResultFiles.WriteRunAsync(dir, "r3", [Row("r3", 0, 0.1), Row("r3", 0, 0.2)]));
    }

    /// <summary>A row as files written before the timing columns existed held it (a subset of the columns).</summary>
    public sealed class OldRow
    {
        [System.Text.Json.Serialization.JsonPropertyName("run_id")] public string RunId { get; set; } = "";
        [System.Text.Json.Serialization.JsonPropertyName("step")] public long Step { get; set; }
        [System.Text.Json.Serialization.JsonPropertyName("wall_seconds")] public double WallSeconds { get; set; }
    }

    [Fact]
    public async Task Files_written_before_the_timing_columns_still_read()
    {
        // A sweep resumed into an older results directory reads its rows back (the coordinator's ledger).
        string dir = Directory.CreateTempSubdirectory("rl-results-").FullName;
        Directory.CreateDirectory(ResultFiles.RunsDirectory(dir));
        await using (var fs = File.Create(ResultFiles.PathFor(dir, "old")))
            await Parquet.Serialization.ParquetSerializer.SerializeAsync(
                new[] { new OldRow { RunId = "old", Step = 3, WallSeconds = 1.5 } }, fs);
        var back = Assert.Single(await ResultFiles.ReadAllAsync(dir));
        Assert.Equal(("old", 3L, 1.5), (back.RunId, back.Step, back.WallSeconds));
        Assert.Equal(0, back.QueuedSeconds);
    }
}
