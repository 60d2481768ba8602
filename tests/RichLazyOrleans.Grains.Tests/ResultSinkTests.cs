using RichLazyOrleans.Engine;
using Microsoft.Extensions.Logging.Abstractions;
using RichLazyOrleans.Grains;
using RichLazyOrleans.Results;

namespace RichLazyOrleans.Grains.Tests;

public class ResultSinkTests
{
    private sealed class Crash : Exception;

    private static ResultRow Row(string run, long step, string sweep = "s", int i = 4, int j = 8, long seed = 3) =>
        new()
        {
            SweepId = sweep, RunId = run, Kind = "synthetic", Step = step, LatticeI = i, LatticeJ = j, Seed = seed,
            Value = step,
        };

    // Compaction from two files on (the coordinator's default leaves up to 16 files as they are).
    private static ResultSink Sink(string dir, int compactTarget = ResultCompaction.DefaultTargetRows) =>
        new("s", dir, NullLogger.Instance, compactTarget, minFilesToCompact: 1);

    private static readonly Dictionary<string, FinishedRun> None = [];
    private static FinishedRun Done(long seed = 3) => new(4, 8, seed, true, 0.5, null);

    private static string[] Parquets(string dir) => Directory.GetFiles(ResultFiles.RunsDirectory(dir), "*.parquet");

    [Fact]
    public async Task Each_run_and_step_is_written_once_and_a_run_is_durable_only_after_its_rows()
    {
        string dir = Directory.CreateTempSubdirectory("rl-sink-").FullName;
        var sink = Sink(dir);
        await sink.ReadLedgerAsync(None);
        sink.Accept("a", [Row("a", 0), Row("a", 10)]);          // streamed while the run goes on
        sink.Accept("a", [Row("a", 10)]);                        // repeated progress
        var durable = new List<string>();
        Assert.Null(await sink.FlushAsync(d => durable.AddRange(d.Keys)));
        Assert.Empty(durable);
        sink.Accept("a", [Row("a", 0), Row("a", 10), Row("a", 20)]);   // the finished run brings all its rows
        sink.Finish("a", Done());
        Assert.Equal(3, sink.Rows);
        Assert.Equal(2, sink.RowsOnDisk);
        Assert.Null(await sink.FlushAsync(d => { Assert.Equal(3, sink.RowsOnDisk); durable.AddRange(d.Keys); }));
        Assert.Equal(["a"], durable);
        Assert.False(sink.HasWork);
        Assert.Null(await sink.FlushAsync(_ => Assert.Fail("nothing to flush")));

        var rows = await ResultFiles.ReadAllAsync(dir);
        Assert.Equal([0L, 10L, 20L], rows.Select(r => r.Step).Order());
        Assert.Equal(2, Parquets(dir).Length);
    }

    [Fact]
    public async Task The_ledger_keeps_a_rerun_from_writing_rows_already_on_disk()
    {
        string dir = Directory.CreateTempSubdirectory("rl-sink-").FullName;
        var first = Sink(dir);
        await first.ReadLedgerAsync(None);
        first.Accept("a", [Row("a", 0), Row("a", 10)]);
        first.Accept("b", [Row("b", 0, seed: 4)]);
        first.Finish("b", Done(seed: 4));
        await first.FlushAsync(_ => { });
        await ResultFiles.WriteBatchAsync(dir, "other-1", [Row("a", 30, sweep: "other")]);   // another sweep's rows

        var second = Sink(dir);
        var ledger = await second.ReadLedgerAsync(new Dictionary<string, FinishedRun> { ["b"] = Done(seed: 4) });
        Assert.Equal(3, ledger.Rows);
        Assert.Equal([new ProposedRun(4, 8, 3)], ledger.Runs);   // run a: unfinished, its rows on disk; b finished
        second.Accept("a", [Row("a", 0), Row("a", 10), Row("a", 20), Row("a", 30)]);
        second.Finish("a", Done());
        await second.FlushAsync(_ => { });

        var rows = (await ResultFiles.ReadAllAsync(dir)).Where(r => r.SweepId == "s").ToList();
        Assert.Equal(5, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => (r.RunId, r.Step)).Distinct().Count());
        Assert.Equal(5, second.RowsOnDisk);
    }

    [Fact]
    public async Task Rows_of_another_spec_in_the_directory_are_refused_at_start()
    {
        string dir = Directory.CreateTempSubdirectory("rl-sink-").FullName;
        await ResultFiles.WriteBatchAsync(dir, "s-1", [Row("a", 0)]);
        File.WriteAllText(Path.Combine(dir, "sweep.yaml"), "name: s\n");
        var e = await Assert.ThrowsAsync<SpecException>(
            () => Sink(dir).ReadLedgerAsync(None, "name: s\nother: 1\n"));
        Assert.Contains("different spec", e.Message);
        Assert.Equal(1, (await Sink(dir).ReadLedgerAsync(None, "name: s\n")).Rows);
    }

    [Fact]
    public async Task A_failed_write_keeps_rows_and_finished_runs_for_the_next_flush()
    {
        string dir = Directory.CreateTempSubdirectory("rl-sink-").FullName;
        var sink = Sink(dir);
        await sink.ReadLedgerAsync(None);
        string runs = ResultFiles.RunsDirectory(dir);
        File.WriteAllText(runs, "a file where the runs directory should be");
        sink.Accept("a", [Row("a", 0)]);
        sink.Finish("a", Done());
        string? error = await sink.FlushAsync(_ => Assert.Fail("nothing is durable"));
        Assert.StartsWith("could not write results", error);
        Assert.True(sink.HasWork);
        sink.Accept("b", [Row("b", 0)]);   // arrives meanwhile: written after a's rows

        File.Delete(runs);
        var durable = new List<string>();
        Assert.Null(await sink.FlushAsync(d => durable.AddRange(d.Keys)));
        Assert.Equal(["a"], durable);
        Assert.Equal(["a", "b"], (await ResultFiles.ReadAllAsync(dir)).Select(r => r.RunId));
    }

    [Fact]
    public async Task The_sweep_end_merges_this_sweeps_files_including_an_earlier_attempts_and_no_others()
    {
        string dir = Directory.CreateTempSubdirectory("rl-sink-").FullName;
        await ResultFiles.WriteBatchAsync(dir, "s-earlier", [Row("a", 0)]);
        await ResultFiles.WriteBatchAsync(dir, "other-1", [Row("x", 0, sweep: "other")]);
        var sink = Sink(dir);
        await sink.ReadLedgerAsync(None);
        for (int k = 1; k <= 4; k++)
        {
            sink.Accept("a", [Row("a", k)]);
            await sink.FlushAsync(_ => { });
        }
        Assert.Equal(6, Parquets(dir).Length);

        await sink.CompactAsync();

        Assert.Equal(2, Parquets(dir).Length);
        Assert.True(File.Exists(Path.Combine(ResultFiles.RunsDirectory(dir), "other-1.parquet")));
        var rows = (await ResultFiles.ReadAllAsync(dir)).Where(r => r.SweepId == "s").Select(r => r.Step).Order();
        Assert.Equal([0L, 1L, 2L, 3L, 4L], rows);
        Assert.Empty(Directory.GetFiles(ResultFiles.RunsDirectory(dir), ".*"));
    }

    [Fact]
    public async Task Reading_the_ledger_completes_a_compaction_cut_off_after_its_rename_and_counts_no_row_twice()
    {
        string dir = Directory.CreateTempSubdirectory("rl-sink-").FullName;
        var sink = Sink(dir);
        await sink.ReadLedgerAsync(None);
        for (int k = 0; k < 3; k++)
        {
            sink.Accept("a", [Row("a", k)]);
            await sink.FlushAsync(_ => { });
        }
        var names = Parquets(dir).Select(Path.GetFileName).ToList();
        await Assert.ThrowsAsync<Crash>(() => ResultCompaction.CompactAsync(dir, names!, () => "s-merged",
            afterStage: s => { if (s == CompactionStage.Renamed) throw new Crash(); }));
        Assert.Equal(6, (await ResultFiles.ReadAllAsync(dir)).Count);   // the instant a reader sees rows twice

        var restored = Sink(dir);
        var ledger = await restored.ReadLedgerAsync(None);

        Assert.Equal(3, ledger.Rows);
        Assert.Equal([Path.Combine(ResultFiles.RunsDirectory(dir), "s-merged.parquet")], Parquets(dir));
        Assert.False(File.Exists(Path.Combine(ResultFiles.RunsDirectory(dir), ResultCompaction.JournalName)));
        restored.Accept("a", [Row("a", 0), Row("a", 1), Row("a", 2)]);
        Assert.False(restored.HasWork);   // all three already on disk
        Assert.Equal([0L, 1L, 2L], (await ResultFiles.ReadAllAsync(dir)).Select(r => r.Step).Order());
    }

    [Fact]
    public async Task Many_rows_ask_for_an_early_flush()
    {
        var sink = Sink(Directory.CreateTempSubdirectory("rl-sink-").FullName);
        sink.Accept("a", Enumerable.Range(0, ResultSink.EarlyFlushRows - 1).Select(k => Row("a", k)));
        Assert.False(sink.NeedsEarlyFlush);
        sink.Accept("b", [Row("b", 0)]);
        Assert.True(sink.NeedsEarlyFlush);
    }
}
