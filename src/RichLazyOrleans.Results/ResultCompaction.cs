using System.Text.Json;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;

namespace RichLazyOrleans.Results;

/// <summary>A point in a compaction, for tests that simulate a crash there (by throwing from the callback).</summary>
public enum CompactionStage { JournalWritten, OutputWritten, Renamed, InputDeleted }

/// <summary>What a compaction did: files merged away, files written in their place, rows moved.</summary>
public sealed record CompactionResult(int FilesMerged, int FilesWritten, long Rows);

/// <summary>A compaction under way, written to DIR/runs/.compaction.json before anything changes.</summary>
public sealed record CompactionJournal(string Output, string Temp, IReadOnlyList<string> Inputs);

/// <summary>
/// Merges a sweep's many small batch files (one per flush, a second apart) into few files of up to
/// <see cref="DefaultTargetRows"/> rows, so readers open a handful of files instead of thousands.
///
/// Crash-safe through a journal, <c>DIR/runs/.compaction.json</c>, listing the inputs and the output:
/// (1) the journal is written (temp, fsync, rename); (2) the merged rows go to a hidden temporary file
/// (not matched by <c>*.parquet</c>), fsynced; (3) that file is renamed to its final name; (4) the inputs
/// are deleted; (5) the journal is deleted. <see cref="RecoverAsync"/>, run before the ledger is read,
/// finishes or undoes an interrupted compaction: a journal whose output exists means the merge is
/// complete (delete the inputs that are left), otherwise nothing was published (delete the temporary).
///
/// A reader globbing runs/*.parquet sees every row exactly once, except in the instant between step 3
/// and the end of step 4, when the output and the not-yet-deleted inputs are both there; those steps run
/// back to back with nothing else in between to keep that window to a few file deletions. (A reader that
/// listed the directory before step 3 and opens an input after step 4 finds it gone: ResultFiles.ReadAllAsync
/// skips vanished files, so such a read misses rows and a second read sees them all.)
///
/// Only files whose schema is exactly the one <see cref="ResultRow"/> is written with are merged (rows are
/// read and written as ResultRow), so a file with other columns is never rewritten and no column is lost.
/// </summary>
public static class ResultCompaction
{
    public const string JournalName = ".compaction.json";
    public const int DefaultTargetRows = 1_000_000;
    /// <summary>Rows per row group of a merged file: bounds the memory a merge holds (about 50 MB).</summary>
    public const int RowGroupRows = 100_000;
    private const string TempSuffix = ".parquet.compacting";

    private static readonly Lazy<Task<ParquetSchema>> RowSchema = new(async () =>
    {
        // The schema as a reader sees it in a file (not the writer's), to compare with files read back.
        using var ms = new MemoryStream();
        await ParquetSerializer.SerializeAsync(new[] { new ResultRow() }, ms);
        ms.Position = 0;
        return await ParquetReader.ReadSchemaAsync(ms);
    });

    /// <summary>
    /// Pays the one-time JIT and reflection cost of a merge (reading schemas and rows, appending row groups) in
    /// memory, so a silo can do it at start-up: otherwise the first sweep to end paid ~0.2 s for it (2% of the
    /// orchestration bench's 10 s, measured).
    /// </summary>
    public static async Task WarmUpAsync()
    {
        using var ms = new MemoryStream();
        var rows = new[] { new ResultRow { RunId = "warm-up" } };
        await ParquetSerializer.SerializeAsync(rows, ms);
        await ParquetSerializer.SerializeAsync(rows, ms, new ParquetOptions { Append = true });
        ms.Position = 0;
        await using (var reader = await ParquetReader.CreateAsync(ms, leaveStreamOpen: true))
            _ = reader.Schema.Equals(await RowSchema.Value) && reader.RowGroups.Sum(g => g.RowCount) == 2;
        ms.Position = 0;
        await ParquetSerializer.DeserializeAsync<ResultRow>(ms);
    }

    /// <summary>
    /// Finishes or undoes a compaction a crash interrupted; returns what it did, or null when there was
    /// nothing to do. Call it before reading the directory's rows (the ledger).
    /// </summary>
    public static async Task<string?> RecoverAsync(string resultsDir)
    {
        string dir = ResultFiles.RunsDirectory(resultsDir);
        string journalPath = Path.Combine(dir, JournalName);
        DeleteIfExists(journalPath + ".tmp");   // a torn journal write: the compaction had not begun
        if (!File.Exists(journalPath)) return null;
        CompactionJournal journal;
        try
        {
            journal = JsonSerializer.Deserialize<CompactionJournal>(await File.ReadAllTextAsync(journalPath))
                ?? throw new InvalidDataException("empty");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            // Written atomically, so this is damage from outside: guessing could duplicate or lose rows.
            throw new InvalidDataException($"compaction journal {journalPath} is unreadable ({e.Message}); "
                + "remove either its output or its inputs by hand, then the journal");
        }
        foreach (string name in journal.Inputs.Append(journal.Output).Append(journal.Temp))
            if (name != Path.GetFileName(name))
                throw new InvalidDataException($"compaction journal {journalPath}: bad file name '{name}'");
        string outcome;
        if (File.Exists(Path.Combine(dir, journal.Output)))
        {
            foreach (string input in journal.Inputs) DeleteIfExists(Path.Combine(dir, input));
            outcome = $"completed an interrupted compaction into {journal.Output} ({journal.Inputs.Count} inputs)";
        }
        else outcome = $"undid an interrupted compaction ({journal.Inputs.Count} inputs kept)";
        DeleteIfExists(Path.Combine(dir, journal.Temp));
        File.Delete(journalPath);
        return outcome;
    }

    /// <summary>
    /// Merges <paramref name="candidates"/> (file names in DIR/runs, in the order their rows should keep) into
    /// files of up to <paramref name="targetRows"/> rows, each named by <paramref name="newName"/> (without
    /// ".parquet"). Files that are gone, already large, or of another schema are left as they are.
    /// </summary>
    public static async Task<CompactionResult> CompactAsync(string resultsDir, IEnumerable<string> candidates,
        Func<string> newName, int targetRows = DefaultTargetRows, Action<CompactionStage>? afterStage = null,
        CancellationToken ct = default)
    {
        await RecoverAsync(resultsDir);
        string dir = ResultFiles.RunsDirectory(resultsDir);
        var fixedSchema = await RowSchema.Value;
        var groups = new List<(ParquetSchema Schema, List<(string Name, long Rows)> Files)>();
        var group = new List<(string Name, long Rows)>();
        ParquetSchema? groupSchema = null;
        long groupRows = 0;
        foreach (string name in candidates.Distinct())
        {
            string path = Path.Combine(dir, name);
            if (!File.Exists(path)) continue;
            if (await RowsIfMergeable(path, fixedSchema, ct) is not ({ } rows, { } schema) || rows >= targetRows)
                continue;
            // Only files of one schema merge (the same extra columns), so a merged file loses no column.
            if (group.Count > 0 && (groupRows + rows > targetRows || !schema.Equals(groupSchema)))
            {
                groups.Add((groupSchema!, group));
                (group, groupRows) = ([], 0);
            }
            groupSchema = schema;
            group.Add((name, rows));
            groupRows += rows;
        }
        if (groupSchema is not null) groups.Add((groupSchema, group));

        int merged = 0, written = 0;
        long moved = 0;
        foreach (var (s, g) in groups.Where(g => g.Files.Count > 1))
        {
            await MergeAsync(dir, g.Select(f => f.Name).ToList(), g.Sum(f => f.Rows), s, newName(), afterStage, ct);
            merged += g.Count;
            written++;
            moved += g.Sum(f => f.Rows);
        }
        return new CompactionResult(merged, written, moved);
    }

    /// <summary>
    /// The file's row count and schema, or nulls when it is not a result file: the fixed ResultRow columns, then
    /// only nullable double extras (<see cref="ResultParquet"/>). Anything else (another schema, unreadable) is
    /// never rewritten.
    /// </summary>
    private static async Task<(long? Rows, ParquetSchema? Schema)> RowsIfMergeable(string path,
        ParquetSchema fixedSchema, CancellationToken ct)
    {
        try
        {
            await using var reader = await ParquetReader.CreateAsync(path, cancellationToken: ct);
            var fields = reader.Schema.Fields;
            int n = fixedSchema.Fields.Count;
            bool ours = fields.Count >= n && fields.Take(n).SequenceEqual(fixedSchema.Fields)
                && fields.Skip(n).All(f => f is DataField { ClrType: var t, IsNullable: true } && t == typeof(double));
            return ours ? (reader.RowGroups.Sum(g => g.RowCount), reader.Schema) : (null, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return (null, null);   // a reader would fail on it too; merging it would only spread the damage
        }
    }

    private static async Task MergeAsync(string dir, IReadOnlyList<string> inputs, long rows, ParquetSchema schema,
        string name, Action<CompactionStage>? afterStage, CancellationToken ct)
    {
        var journal = new CompactionJournal(name + ".parquet", "." + name + TempSuffix, inputs);
        string output = Path.Combine(dir, journal.Output), temp = Path.Combine(dir, journal.Temp);
        string journalPath = Path.Combine(dir, JournalName);
        bool simulating = false, published = false;
        void Stage(CompactionStage s)
        {
            simulating = true;   // an exception from here is a test's simulated crash: leave the files as they are
            afterStage?.Invoke(s);
            simulating = false;
        }
        try
        {
            await WriteDurablyAsync(journalPath + ".tmp", JsonSerializer.SerializeToUtf8Bytes(journal), ct);
            File.Move(journalPath + ".tmp", journalPath);
            Stage(CompactionStage.JournalWritten);
            await WriteMergedAsync(dir, inputs, temp, schema, ct);
            await using (var check = await ParquetReader.CreateAsync(temp, cancellationToken: ct))
            {
                long back = check.RowGroups.Sum(g => g.RowCount);
                if (back != rows)
                    throw new InvalidDataException($"compaction wrote {back} rows of {rows}; inputs kept");
            }
            Stage(CompactionStage.OutputWritten);

            // From here to the journal's deletion nothing else runs: this is the window in which a reader
            // could see a row twice (output published, inputs not yet all deleted).
            File.Move(temp, output);
            published = true;
            Stage(CompactionStage.Renamed);
            foreach (string input in inputs)
            {
                DeleteIfExists(Path.Combine(dir, input));
                Stage(CompactionStage.InputDeleted);
            }
            File.Delete(journalPath);
        }
        catch when (!simulating && !published)
        {
            // Nothing was published (disk full, an input unreadable): undo, the inputs stay as they were.
            DeleteIfExists(temp);
            DeleteIfExists(journalPath + ".tmp");
            DeleteIfExists(journalPath);
            throw;
        }
        // Failing after the rename leaves the journal: RecoverAsync deletes the remaining inputs later.
    }

    private static async Task WriteMergedAsync(string dir, IReadOnlyList<string> inputs, string temp,
        ParquetSchema schema, CancellationToken ct)
    {
        await using var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        var buffer = new List<ResultRow>();
        bool first = true;
        async Task WriteGroupAsync()
        {
            // Appending adds a row group to the file written so far: memory stays at one group.
            await ResultParquet.WriteAsync(fs, buffer, WriterSchema(schema), append: !first, ct);
            first = false;
            buffer.Clear();
        }
        foreach (string input in inputs)
        {
            buffer.AddRange(await ResultFiles.ReadRunAsync(Path.Combine(dir, input), ct));
            if (buffer.Count >= RowGroupRows) await WriteGroupAsync();
        }
        if (buffer.Count > 0 || first) await WriteGroupAsync();
        await fs.FlushAsync(ct);
        fs.Flush(flushToDisk: true);
    }

    /// <summary>A file's schema as the writer needs it: ResultRow's fields (with their properties) and the extras.
    /// </summary>
    private static ParquetSchema WriterSchema(ParquetSchema fileSchema) =>
        ResultParquet.Schema(fileSchema.GetDataFields().Select(f => f.Name));

    private static async Task WriteDurablyAsync(string path, byte[] bytes, CancellationToken ct)
    {
        await using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        await fs.WriteAsync(bytes, ct);
        await fs.FlushAsync(ct);
        fs.Flush(flushToDisk: true);
    }

    private static void DeleteIfExists(string path)
    {
        if (File.Exists(path)) File.Delete(path);
    }
}
