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
        await ResultFiles.WriteRunAsync(dir, "run-a", [Row("run-a", 0, 0.0), Row("run-a", 10, 0.25)]);
        await using var fs = File.OpenRead(ResultFiles.PathFor(dir, "run-a"));
        await using var reader = await ParquetReader.CreateAsync(fs);
        var fields = reader.Schema.GetDataFields().ToDictionary(f => f.Name);
        foreach (var name in new[] { "sweep_id", "run_id", "kind", "tau", "delta", "alpha", "seed", "step", "depth", "status", "wall_seconds", "resumed_from_step", "kernel_distance", "train_loss", "test_loss", "hamming_distance", "parameter_distance", "delta_drift" })
            Assert.True(fields.ContainsKey(name), $"missing column {name}");
        Assert.Equal(typeof(long), fields["step"].ClrType);
        Assert.Equal(typeof(long), fields["resumed_from_step"].ClrType);
        Assert.Equal(typeof(double), fields["kernel_distance"].ClrType);
        Assert.Contains(fields["run_id"].ClrType, new[] { typeof(string), typeof(ReadOnlyMemory<char>) });   // UTF-8 string column
        var back = await ResultFiles.ReadRunAsync(ResultFiles.PathFor(dir, "run-a"));
        Assert.Equal([0L, 10L], back.Select(r => r.Step));
        Assert.Equal(0.25, back[1].KernelDistance);
        Assert.Null(back[1].TrainLoss);
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
        Assert.Equal(["r1.parquet", "r2.parquet"], Directory.GetFiles(ResultFiles.RunsDirectory(dir)).Select(Path.GetFileName).Order());
        await Assert.ThrowsAsync<ArgumentException>(() => ResultFiles.WriteRunAsync(dir, "r3", [Row("r3", 0, 0.1), Row("r3", 0, 0.2)]));
    }
}
