namespace RichLazyOrleans.Results;

/// <summary>
/// The results directory: DIR/runs/*.parquet. A file is written under a hidden temporary name,
/// flushed to disk and renamed into place, so a reader globbing runs/*.parquet sees whole files
/// only. <see cref="WriteRunAsync"/> writes one run per file (a rewrite replaces it);
/// <see cref="WriteBatchAsync"/> writes many runs' rows at once (the sweep coordinator's way: it
/// accepts each run's rows once, so (run_id, step) is never duplicated across files).
/// </summary>
public static class ResultFiles
{
    public static string RunsDirectory(string resultsDir) => Path.Combine(resultsDir, "runs");

    public static string PathFor(string resultsDir, string runId) =>
        Path.Combine(RunsDirectory(resultsDir), runId + ".parquet");

    public static async Task WriteRunAsync(string resultsDir, string runId, IReadOnlyList<ResultRow> rows,
        CancellationToken ct = default, IEnumerable<string>? extras = null)
    {
        if (rows.Any(r => r.RunId != runId))
            throw new ArgumentException("every row must belong to the run being written");
        if (rows.Select(r => r.Step).Distinct().Count() != rows.Count)
            throw new ArgumentException($"run {runId} has duplicate steps");
        await WriteAtomicallyAsync(resultsDir, runId, rows, extras ?? [], ct);
    }

    /// <summary>Writes rows of several runs as DIR/runs/NAME.parquet, with the fixed columns, the extra columns
    /// <paramref name="extras"/> (a sweep's axes and declared metrics: every batch file of a sweep has the same
    /// schema) and any other extra the rows carry.</summary>
    public static async Task WriteBatchAsync(string resultsDir, string name, IReadOnlyList<ResultRow> rows,
        CancellationToken ct = default, IEnumerable<string>? extras = null)
    {
        if (rows.Select(r => (r.RunId, r.Step)).Distinct().Count() != rows.Count)
            throw new ArgumentException($"batch {name} has duplicate (run_id, step)");
        await WriteAtomicallyAsync(resultsDir, name, rows, extras ?? [], ct);
    }

    private static async Task WriteAtomicallyAsync(string resultsDir, string name, IReadOnlyList<ResultRow> rows,
        IEnumerable<string> extras, CancellationToken ct)
    {
        string dir = RunsDirectory(resultsDir);
        Directory.CreateDirectory(dir);
        string final = Path.Combine(dir, name + ".parquet");
        string tmp = Path.Combine(dir, $".{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                await ResultParquet.WriteAsync(fs, rows, extras, ct: ct);
                await fs.FlushAsync(ct);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, final, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    public static async Task<IReadOnlyList<ResultRow>> ReadRunAsync(string path, CancellationToken ct = default)
    {
        await using var fs = File.OpenRead(path);
        return await ResultParquet.ReadAsync(fs, ct);
    }

    /// <summary>Every row of the directory (a consistent snapshot of whole files).</summary>
    public static async Task<IReadOnlyList<ResultRow>> ReadAllAsync(string resultsDir, CancellationToken ct = default)
    {
        string dir = RunsDirectory(resultsDir);
        if (!Directory.Exists(dir)) return [];
        var all = new List<ResultRow>();
        foreach (var f in Directory.EnumerateFiles(dir, "*.parquet").Order())
        {
            try { all.AddRange(await ReadRunAsync(f, ct)); }
            catch (FileNotFoundException) { }   // replaced between listing and reading
        }
        return all;
    }
}
