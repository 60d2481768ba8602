using System.Text.Json;
using Parquet;
using Parquet.Serialization;
using RichLazyOrleans.Results;

namespace RichLazyOrleans.Results.Tests;

public class ResultCompactionTests
{
    /// <summary>Simulated crash: thrown from a compaction stage, it leaves the files as a kill would.</summary>
    private sealed class Crash : Exception;

    private static ResultRow Row(string run, long step) => new()
    {
        SweepId = "s", RunId = run, Kind = "synthetic", Tau = 0.5 + step, Delta = step % 3 == 0 ? null : -0.25,
        Seed = 7, Step = step, Depth = 1, Status = "ok", WallSeconds = 0.01 * step, Value = 0.3 * step,
        StartedAt = new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc).AddSeconds(step),
        FinishedAt = new DateTime(2026, 11, 30, 12, 0, 1, DateTimeKind.Utc).AddSeconds(step), Silo = "h:1@2",
    };

    /// <summary>Writes <paramref name="files"/> batches of <paramref name="rowsEach"/> rows; returns their names.
    /// </summary>
    private static async Task<List<string>> WriteBatches(string dir, int files, int rowsEach)
    {
        var names = new List<string>();
        for (int f = 0; f < files; f++)
        {
            string name = $"s-{f:D4}";
            var rows = Enumerable.Range(0, rowsEach).Select(k => Row($"r{f}", k)).ToList();
            await ResultFiles.WriteBatchAsync(dir, name, rows);
            names.Add(name + ".parquet");
        }
        return names;
    }

    /// <summary>Every row a reader globbing runs/*.parquet sees, as JSON (every column), sorted.</summary>
    private static async Task<List<string>> Snapshot(string dir) =>
        (await ResultFiles.ReadAllAsync(dir)).Select(r => JsonSerializer.Serialize(r)).Order().ToList();

    private static string[] Parquets(string dir) => Directory.GetFiles(ResultFiles.RunsDirectory(dir), "*.parquet");
    private static string[] Hidden(string dir) => Directory.GetFiles(ResultFiles.RunsDirectory(dir), ".*");

    private static int counter;
    private static string NewName() => $"s-merged-{Interlocked.Increment(ref counter):D6}";

    [Fact]
    public async Task Small_files_merge_into_one_with_every_row_and_column_unchanged()
    {
        string dir = Directory.CreateTempSubdirectory("rl-compact-").FullName;
        var names = await WriteBatches(dir, 12, 7);
        var before = await Snapshot(dir);

        var r = await ResultCompaction.CompactAsync(dir, names, NewName);

        Assert.Equal(new CompactionResult(12, 1, 84), r);
        Assert.Single(Parquets(dir));
        Assert.Empty(Hidden(dir));   // no journal, no temporary left
        Assert.Equal(before, await Snapshot(dir));
        await using var reader = await ParquetReader.CreateAsync(Parquets(dir)[0]);
        Assert.Equal(1, reader.RowGroupCount);
    }

    [Fact]
    public async Task A_large_merge_is_written_in_row_groups_and_keeps_every_row()
    {
        string dir = Directory.CreateTempSubdirectory("rl-compact-").FullName;
        int each = ResultCompaction.RowGroupRows / 2;
        var names = await WriteBatches(dir, 3, each);
        var before = (await ResultFiles.ReadAllAsync(dir)).Select(r => (r.RunId, r.Step, r.Value, r.FinishedAt))
            .Order().ToList();

        await ResultCompaction.CompactAsync(dir, names, NewName);

        await using (var reader = await ParquetReader.CreateAsync(Assert.Single(Parquets(dir))))
            Assert.Equal(2, reader.RowGroupCount);   // appended group by group: memory stays at one group
        var after = (await ResultFiles.ReadAllAsync(dir)).Select(r => (r.RunId, r.Step, r.Value, r.FinishedAt))
            .Order().ToList();
        Assert.Equal(3 * each, after.Count);
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task Outputs_hold_at_most_the_target_rows_and_large_files_stay_as_they_are()
    {
        string dir = Directory.CreateTempSubdirectory("rl-compact-").FullName;
        var names = await WriteBatches(dir, 10, 30);
        var big = Enumerable.Range(0, 150).Select(k => Row("big", k)).ToList();
        await ResultFiles.WriteBatchAsync(dir, "s-big", big);
        names.Insert(5, "s-big.parquet");
        var before = await Snapshot(dir);

        var r = await ResultCompaction.CompactAsync(dir, names, NewName, targetRows: 100);

        // 30-row files in groups of three (90 rows; a fourth would pass 100); the last one alone is not rewritten.
        Assert.Equal(new CompactionResult(9, 3, 270), r);
        string runs = ResultFiles.RunsDirectory(dir);
        Assert.True(File.Exists(Path.Combine(runs, "s-big.parquet")), "a file at the target stays");
        Assert.True(File.Exists(Path.Combine(runs, "s-0009.parquet")), "a lone remainder stays");
        Assert.Equal(5, Parquets(dir).Length);
        Assert.Equal(before, await Snapshot(dir));
    }

    private sealed class OtherRow
    {
        public string run_id { get; set; } = "";
        public long step { get; set; }
        public string extra { get; set; } = "";
    }

    [Fact]
    public async Task A_file_with_other_columns_is_never_rewritten()
    {
        string dir = Directory.CreateTempSubdirectory("rl-compact-").FullName;
        var names = await WriteBatches(dir, 3, 5);
        string other = Path.Combine(ResultFiles.RunsDirectory(dir), "s-other.parquet");
        await ParquetSerializer.SerializeAsync([new OtherRow { run_id = "x", step = 1, extra = "kept" }], other);
        byte[] otherBytes = File.ReadAllBytes(other);

        var candidates = names.Append("s-other.parquet").Append("s-gone.parquet");
        var r = await ResultCompaction.CompactAsync(dir, candidates, NewName);

        Assert.Equal(3, r.FilesMerged);
        Assert.Equal(otherBytes, File.ReadAllBytes(other));
        Assert.Equal(2, Parquets(dir).Length);
    }

    [Theory]
    [InlineData(CompactionStage.JournalWritten, 1, false)]
    [InlineData(CompactionStage.OutputWritten, 1, false)]
    [InlineData(CompactionStage.Renamed, 1, true)]
    [InlineData(CompactionStage.InputDeleted, 1, true)]    // one input deleted, the others not
    [InlineData(CompactionStage.InputDeleted, 5, true)]    // every input deleted, the journal not
    public async Task A_crash_at_any_stage_is_completed_or_undone_by_recovery_and_no_row_is_lost_or_doubled(
        CompactionStage stage, int occurrence, bool published)
    {
        string dir = Directory.CreateTempSubdirectory("rl-compact-crash-").FullName;
        var names = await WriteBatches(dir, 5, 4);
        var before = await Snapshot(dir);
        int seen = 0;
        await Assert.ThrowsAsync<Crash>(() => ResultCompaction.CompactAsync(dir, names, NewName,
            afterStage: s => { if (s == stage && ++seen == occurrence) throw new Crash(); }));

        string journal = Path.Combine(ResultFiles.RunsDirectory(dir), ResultCompaction.JournalName);
        Assert.True(File.Exists(journal), "the crash leaves the journal");
        var during = await Snapshot(dir);
        if (published && occurrence < names.Count)
            Assert.True(during.Count > before.Count, "output and inputs both visible");
        else Assert.Equal(before, during);

        string? what = await ResultCompaction.RecoverAsync(dir);

        Assert.NotNull(what);
        Assert.Equal(before, await Snapshot(dir));   // every row exactly once
        Assert.Empty(Hidden(dir));                   // journal and temporary gone
        Assert.Equal(published ? 1 : names.Count, Parquets(dir).Length);
        Assert.Null(await ResultCompaction.RecoverAsync(dir));   // nothing left to do
        // A compaction after recovery still works (an undone one is done again).
        await ResultCompaction.CompactAsync(dir, Parquets(dir).Select(Path.GetFileName).ToList()!, NewName);
        Assert.Single(Parquets(dir));
        Assert.Equal(before, await Snapshot(dir));
    }

    [Fact]
    public async Task A_failed_merge_undoes_itself_keeps_the_inputs_and_overwrites_nothing()
    {
        string dir = Directory.CreateTempSubdirectory("rl-compact-").FullName;
        var names = await WriteBatches(dir, 3, 4);
        // The output's name is taken (by a file that is not an input): the rename must fail, not replace it.
        await ResultFiles.WriteBatchAsync(dir, "s-taken", [Row("other", 0)]);
        var before = await Snapshot(dir);

        await Assert.ThrowsAsync<IOException>(() => ResultCompaction.CompactAsync(dir, names, () => "s-taken"));

        Assert.Empty(Hidden(dir));   // temporary and journal removed
        Assert.Equal(4, Parquets(dir).Length);
        Assert.Equal(before, await Snapshot(dir));
    }

    [Fact]
    public async Task An_unreadable_candidate_is_skipped_and_the_others_are_merged()
    {
        string dir = Directory.CreateTempSubdirectory("rl-compact-").FullName;
        var names = await WriteBatches(dir, 3, 4);
        var before = await Snapshot(dir);
        File.WriteAllText(Path.Combine(ResultFiles.RunsDirectory(dir), "s-bad.parquet"), "not parquet");

        var r = await ResultCompaction.CompactAsync(dir, names.Append("s-bad.parquet"), NewName);

        Assert.Equal(3, r.FilesMerged);
        Assert.True(File.Exists(Path.Combine(ResultFiles.RunsDirectory(dir), "s-bad.parquet")));
        File.Delete(Path.Combine(ResultFiles.RunsDirectory(dir), "s-bad.parquet"));
        Assert.Equal(before, await Snapshot(dir));
    }

    [Fact]
    public async Task An_unreadable_journal_stops_recovery_without_touching_a_file()
    {
        string dir = Directory.CreateTempSubdirectory("rl-compact-").FullName;
        var names = await WriteBatches(dir, 2, 3);
        string journal = Path.Combine(ResultFiles.RunsDirectory(dir), ResultCompaction.JournalName);
        File.WriteAllText(journal, "{ torn");
        File.WriteAllText(journal + ".tmp", "{");

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => ResultCompaction.RecoverAsync(dir));

        Assert.Contains(ResultCompaction.JournalName, e.Message);
        Assert.True(File.Exists(journal));
        Assert.False(File.Exists(journal + ".tmp"));   // a torn journal write: the compaction never began
        Assert.Equal(names.Count, Parquets(dir).Length);
    }

    [Fact]
    public async Task Extra_columns_survive_compaction_and_files_of_different_columns_are_not_merged()
    {
        string dir = Directory.CreateTempSubdirectory("rl-compact-extra-").FullName;
        var names = new List<string>();
        for (int f = 0; f < 6; f++)
        {
            // Files 0-3 carry a `width` axis (one row each without a value), files 4-5 also a `lr` column.
            var rows = Enumerable.Range(0, 3).Select(k =>
            {
                var r = Row($"r{f}", k);
                if (k > 0) r.SetColumn("width", 0.1 * f + k);
                r.ParamsJson = $$"""{"width": {{0.1 * f + k}}}""";
                return r;
            }).ToList();
            string[] extras = f < 4 ? ["width"] : ["width", "lr"];
            await ResultFiles.WriteBatchAsync(dir, $"s-{f:D4}", rows, extras: extras);
            names.Add($"s-{f:D4}.parquet");
        }
        var before = await Snapshot(dir);
        var r = await ResultCompaction.CompactAsync(dir, names, NewName);
        Assert.Equal((6, 2), (r.FilesMerged, r.FilesWritten));   // one merge per schema
        Assert.Equal(before, await Snapshot(dir));                // every value, extras and params_json included
        var schemas = new List<string>();
        foreach (var f in Parquets(dir))
            schemas.Add(string.Join(",", (await ResultParquet.ReadSchemaAsync(f)).GetDataFields().Select(d => d.Name)));
        Assert.Equal(2, schemas.Distinct().Count());
        Assert.All(schemas, s => Assert.Contains("params_json", s));
        Assert.All(schemas, s => Assert.EndsWith(",value,width", s.Replace(",lr", "")));   // metrics and axes, by name
        var read = await ResultFiles.ReadAllAsync(dir);
        Assert.Equal(0.1 * 5 + 2, read.Single(x => x.RunId == "r5" && x.Step == 2).Metric("width")!.Value, 12);
        Assert.Null(read.Single(x => x.RunId == "r5" && x.Step == 0).Metric("width"));
    }

    [Fact]
    public async Task A_file_written_before_the_open_schema_reads_with_defaults()
    {
        // The class as ParquetSerializer wrote it before params_json existed: every fixed column but that one.
        string dir = Directory.CreateTempSubdirectory("rl-compact-old-").FullName;
        Directory.CreateDirectory(ResultFiles.RunsDirectory(dir));
        var rows = new[] { Row("old", 3) };
        var data = rows.Select(x => (IDictionary<string, object?>)new Dictionary<string, object?>
        {
            ["sweep_id"] = x.SweepId, ["run_id"] = x.RunId, ["step"] = x.Step, ["value"] = x.Value,
        }).ToList();
        var schema = new Parquet.Schema.ParquetSchema(new Parquet.Schema.DataField<string>("sweep_id"),
            new Parquet.Schema.DataField<string>("run_id"), new Parquet.Schema.DataField<long>("step"),
            new Parquet.Schema.DataField<double?>("value"));
        await using (var fs = File.Create(Path.Combine(ResultFiles.RunsDirectory(dir), "old.parquet")))
            await ParquetSerializer.SerializeUntypedAsync(data, schema, fs);
        var back = Assert.Single(await ResultFiles.ReadAllAsync(dir));
        Assert.Equal(("old", 3L, 0.3 * 3, ""), (back.RunId, back.Step, back.Value!.Value, back.ParamsJson));
        Assert.Equal(["value"], back.Extra!.Keys);   // metric columns read as metrics
    }
}
