using Parquet.Serialization;

namespace RichLazyOrleans.Results;

/// <summary>
/// The results directory: DIR/runs/RUN_ID.parquet, one file per run. A file is written under a
/// hidden temporary name and renamed into place, so a reader globbing runs/*.parquet sees whole
/// files only; writing a run again (a retry) replaces its file, so (run_id, step) is never duplicated.
/// </summary>
public static class ResultFiles
{
    public static string RunsDirectory(string resultsDir) => Path.Combine(resultsDir, "runs");

    public static string PathFor(string resultsDir, string runId) => Path.Combine(RunsDirectory(resultsDir), runId + ".parquet");

    public static async Task WriteRunAsync(string resultsDir, string runId, IReadOnlyList<ResultRow> rows, CancellationToken ct = default)
    {
        if (rows.Any(r => r.RunId != runId)) throw new ArgumentException("every row must belong to the run being written");
        if (rows.Select(r => r.Step).Distinct().Count() != rows.Count) throw new ArgumentException($"run {runId} has duplicate steps");
        string dir = RunsDirectory(resultsDir);
        Directory.CreateDirectory(dir);
        string final = PathFor(resultsDir, runId);
        string tmp = Path.Combine(dir, $".{runId}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                await ParquetSerializer.SerializeAsync(rows, fs, cancellationToken: ct);
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
        var result = await ParquetSerializer.DeserializeAsync<ResultRow>(fs, cancellationToken: ct);
        return result.Data.ToList();
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
