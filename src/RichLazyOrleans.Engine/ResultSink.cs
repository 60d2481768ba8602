using Microsoft.Extensions.Logging;
using RichLazyOrleans.Engine;
using RichLazyOrleans.Results;

namespace RichLazyOrleans.Engine;

/// <summary>What the results directory holds of a sweep: its rows, and the unfinished runs they belong to.</summary>
public sealed record Ledger(int Rows, IReadOnlyList<ProposedRun> Runs);

/// <summary>
/// Where a sweep's rows go. Accepts each (run_id, step) once, whether it arrives while the run goes on or
/// with the finished run, also across restores (the ledger: the rows already in DIR/runs, read back at start,
/// including rows of an earlier attempt into the same directory). Rows stream to disk in batches, at most a
/// second behind (the coordinator's timer) or early at <see cref="EarlyFlushRows"/>, one atomically written
/// Parquet file per batch (a file per run cost more CPU than a 10 ms run on a 2-core machine). A run counts as
/// finished durably only after its rows are on disk: <see cref="FlushAsync"/> hands the coordinator the runs a
/// write made durable. When the sweep ends, <see cref="CompactAsync"/> merges the batch files into few.
/// Plain class: the coordinator calls it on its own scheduler, one flush at a time.
/// </summary>
public sealed class ResultSink(string sweepId, string resultsDir, ILogger logger,
    int compactTargetRows = ResultCompaction.DefaultTargetRows, int minFilesToCompact = ResultSink.MinFilesToCompact)
{
    /// <summary>
    /// A sweep that wrote at most this many batch files keeps them: readers open a few files either way, and a
    /// merge costs three fsyncs and a rewrite (1.5% of a 10 s sweep of 2 000 short runs, measured).
    /// </summary>
    public const int MinFilesToCompact = 16;

    public const int EarlyFlushRows = 5000;
    /// <summary>Tries of one batch write before the rows wait for the next flush (a second later).</summary>
    public const int WriteAttempts = 3;

    private readonly Dictionary<string, HashSet<long>> _accepted = [];   // (run_id, step) of unfinished runs
    private List<ResultRow> _pending = [];                                // accepted, not yet in a file
    private Dictionary<string, FinishedRun> _finishedNow = [];            // finished, rows not yet on disk
    private Dictionary<string, FinishedRun> _flushing = [];               // finished, rows being written now
    private readonly List<string> _files = [];                            // this sweep's files: compaction's input

    private string? _cluster;              // set once the directory's lock is held
    private System.Diagnostics.Stopwatch? _renewed;
    /// <summary>How often the lock's heartbeat is written (a sixth of its lease).</summary>
    public static readonly TimeSpan RenewEvery = ResultsLock.Lease / 6;

    public string ResultsDir => resultsDir;

    /// <summary>Extra columns every batch file gets (the sweep's axes and declared metrics): one schema per sweep.
    /// </summary>
    public IReadOnlyList<string> Columns { get; set; } = [];

    /// <summary>
    /// Takes the results directory for this sweep on <paramref name="cluster"/> (<see cref="ResultsLock"/>); an
    /// SpecException with one line when another sweep or cluster holds it, or the directory is not writable.
    /// </summary>
    public void AcquireLock(string cluster)
    {
        try { ResultsLock.Acquire(resultsDir, sweepId, cluster); }
        catch (ResultsLockedException e) { throw new SpecException(e.Message); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpecException($"results directory {resultsDir} is not writable: {e.Message.Split('\n')[0]}");
        }
        _cluster = cluster;
        _renewed = System.Diagnostics.Stopwatch.StartNew();
    }

    /// <summary>Renews the lock's heartbeat when due; logs (once per renewal) if another owner took it over.</summary>
    public void RenewLock()
    {
        if (_cluster is null || _renewed!.Elapsed < RenewEvery) return;
        _renewed.Restart();
        try
        {
            if (!ResultsLock.Heartbeat(resultsDir, sweepId, _cluster))
                logger.LogError("sweep {Sweep}: its results directory {Dir} was taken over by another sweep or cluster "
                    + "(its lock was not renewed for {Lease} s)", sweepId, resultsDir, ResultsLock.Lease.TotalSeconds);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("sweep {Sweep}: could not renew its results lock ({Error})", sweepId,
                e.Message.Split('\n')[0]);
        }
    }

    /// <summary>A finished sweep gives its directory back.</summary>
    public void ReleaseLock()
    {
        if (_cluster is null) return;
        try { ResultsLock.Release(resultsDir, sweepId, _cluster); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("sweep {Sweep}: could not remove its results lock ({Error})", sweepId,
                e.Message.Split('\n')[0]);
        }
        _cluster = null;
    }
    /// <summary>Rows of this sweep in files (including an earlier attempt's).</summary>
    public int RowsOnDisk { get; private set; }
    /// <summary>Rows accepted: on disk or about to be.</summary>
    public int Rows { get; private set; }
    public bool HasWork => _pending.Count > 0 || _finishedNow.Count > 0;
    public bool NeedsEarlyFlush => _pending.Count >= EarlyFlushRows;
    /// <summary>Finished runs whose rows are not on disk yet.</summary>
    public IEnumerable<FinishedRun> Unflushed => _flushing.Values.Concat(_finishedNow.Values);

    /// <summary>
    /// Reads the rows already in DIR/runs (after finishing or undoing a compaction a crash interrupted), so a
    /// rerun's rows are accepted only where missing. Rows of <paramref name="finished"/> runs need no tracking.
    /// A fresh start passes its <paramref name="specYaml"/>: rows there of the same sweep run with another spec
    /// (DIR/sweep.yaml differs) are refused with a SpecException, as old and new results would mix silently.
    /// </summary>
    public async Task<Ledger> ReadLedgerAsync(IReadOnlyDictionary<string, FinishedRun> finished,
        string? specYaml = null)
    {
        if (await ResultCompaction.RecoverAsync(resultsDir) is { } recovered)
            logger.LogWarning("sweep {Sweep}: {What} in {Dir}", sweepId, recovered, resultsDir);
        string runsDir = ResultFiles.RunsDirectory(resultsDir);
        var runs = new Dictionary<string, ProposedRun>();
        var foreign = new SortedSet<string>(StringComparer.Ordinal);   // other sweeps' rows in the folder
        int rowsOnDisk = 0;
        var files = Directory.Exists(runsDir) ? Directory.EnumerateFiles(runsDir, "*.parquet").Order().ToList() : [];
        foreach (var file in files)
        {
            IReadOnlyList<ResultRow> rows;
            try { rows = await ResultFiles.ReadRunAsync(file); }
            catch (FileNotFoundException) { continue; }
            catch (Exception e)
            {
                logger.LogError("sweep {Sweep}: results file {File} is unreadable ({Error}); its rows may be written "
                    + "again",
                    sweepId, file, RunDispatcher.FirstLine(e));
                continue;
            }
            if (rows.Count > 0 && rows.All(r => r.SweepId == sweepId)) _files.Add(Path.GetFileName(file));
            foreach (var r in rows) if (r.SweepId != sweepId) foreign.Add(r.SweepId);
            foreach (var row in rows.Where(r => r.SweepId == sweepId))
            {
                rowsOnDisk++;
                if (finished.ContainsKey(row.RunId)) continue;
                runs.TryAdd(row.RunId, new ProposedRun(row.LatticeI, row.LatticeJ, row.Seed));
                if (!_accepted.TryGetValue(row.RunId, out var steps)) _accepted[row.RunId] = steps = [];
                steps.Add(row.Step);
            }
        }
        if (specYaml is not null && (ForeignSweep(foreign) ?? ForeignSpec()) is { } other)
            throw new SpecException($"{resultsDir} holds the results of sweep '{other}'; give this sweep another --out "
                + "(a results folder belongs to one sweep)");
        if (specYaml is not null && rowsOnDisk > 0)
        {
            string previous = Path.Combine(resultsDir, "sweep.yaml");
            if (File.Exists(previous) && await File.ReadAllTextAsync(previous) != specYaml)
                throw new SpecException($"{resultsDir} already holds {rowsOnDisk} rows of sweep '{sweepId}' run "
                    + "with a different spec (its sweep.yaml differs): use another --out, or the same spec to "
                    + "complete it");
            logger.LogWarning("sweep {Sweep}: {Rows} rows of an earlier attempt are already in {Dir}; they are kept "
                + "and not written again", sweepId, rowsOnDisk, resultsDir);
        }
        RowsOnDisk = Rows = rowsOnDisk;
        return new Ledger(rowsOnDisk, runs.Values.ToList());
    }

    private static string? ForeignSweep(SortedSet<string> foreign) => foreign.Count > 0 ? foreign.Min : null;

    /// <summary>The name in DIR/sweep.yaml when it is another sweep's (`sweep run` writes it beside the results).
    /// </summary>
    private string? ForeignSpec()
    {
        string path = Path.Combine(resultsDir, "sweep.yaml");
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
        {
            var m = System.Text.RegularExpressions.Regex.Match(line, @"^name:\s*['""]?([^'""#\s]+)");
            if (m.Success) return m.Groups[1].Value == sweepId ? null : m.Groups[1].Value;
        }
        return null;
    }

    /// <summary>Takes a batch of a run's typed rows, each (run_id, step) once, joined to the run's columns.</summary>
    public void Accept(RunColumns run, RowBatch batch) => Accept(run.RunId, run.Compose(batch));

    public void Accept(string runId, IEnumerable<ResultRow> rows)
    {
        if (!_accepted.TryGetValue(runId, out var steps)) _accepted[runId] = steps = [];
        foreach (var row in rows)
            if (steps.Add(row.Step)) { _pending.Add(row); Rows++; _silos.Add(row.Silo); }
    }

    /// <summary>Silos that produced rows accepted by this activation (for the manifest).</summary>
    public IReadOnlyCollection<string> Silos => _silos;
    private readonly SortedSet<string> _silos = new(StringComparer.Ordinal);

    /// <summary>A run finished (its rows, if any, already accepted): recorded as durable with the next write.</summary>
    public void Finish(string runId, FinishedRun run)
    {
        _accepted.Remove(runId);   // no more rows can come
        _finishedNow[runId] = run;
    }

    /// <summary>
    /// Writes the accepted rows not yet on disk as one Parquet file (atomically), then hands the runs they
    /// finished to <paramref name="recordDurable"/> (synchronously, before anything else can interleave). In
    /// that order: a crash in between leaves rows on disk for a run not recorded as finished, which reruns and
    /// adds nothing twice. Returns null, or why the write failed (the rows are kept for the next flush).
    /// </summary>
    public async Task<string?> FlushAsync(Action<IReadOnlyDictionary<string, FinishedRun>> recordDurable)
    {
        if (!HasWork) return null;
        // Taken together, with no await between, so a run finishing meanwhile waits for the next flush.
        var batch = _pending;
        var finishing = _finishedNow;
        _pending = [];
        _finishedNow = [];
        _flushing = finishing;   // still counted as finished while the write is under way
        if (batch.Count > 0)
        {
            string name = NewFileName();
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await ResultFiles.WriteBatchAsync(resultsDir, name, batch, extras: Columns);
                    break;
                }
                catch (Exception e) when (attempt < WriteAttempts)
                {
                    logger.LogWarning("sweep {Sweep}: writing results failed ({Error}); trying again",
                        sweepId, RunDispatcher.FirstLine(e));
                    await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt));
                }
                catch (Exception e)
                {
                    batch.AddRange(_pending);   // keep them, in order, for the next flush
                    _pending = batch;
                    foreach (var kv in _finishedNow) finishing[kv.Key] = kv.Value;
                    _finishedNow = finishing;
                    _flushing = [];
                    logger.LogError(e, "sweep {Sweep}: writing results failed", sweepId);
                    return $"could not write results: {e.Message}";
                }
            }
            _files.Add(name + ".parquet");
            RowsOnDisk += batch.Count;
        }
        recordDurable(finishing);
        _flushing = [];
        return null;
    }

    /// <summary>
    /// Merges this sweep's batch files into few (see <see cref="ResultCompaction"/>: crash-safe, never a row
    /// lost or, but for an instant, seen twice). Failing leaves the files as they are, which is correct too.
    /// </summary>
    public async Task CompactAsync()
    {
        if (_files.Count <= minFilesToCompact) { _files.Clear(); return; }
        try
        {
            var r = await ResultCompaction.CompactAsync(resultsDir, _files, NewFileName, compactTargetRows);
            if (r.FilesMerged > 0)
                logger.LogInformation("sweep {Sweep}: {Files} result files merged into {Written} ({Rows} rows)",
                    sweepId, r.FilesMerged, r.FilesWritten, r.Rows);
        }
        catch (Exception e)
        {
            logger.LogWarning("sweep {Sweep}: could not merge its result files ({Error}); they stay as written",
                sweepId, RunDispatcher.FirstLine(e));
        }
        _files.Clear();
    }

    /// <summary>DIR/runs/SWEEP-TIMESTAMP-xxxxxxxx (without .parquet).</summary>
    private string NewFileName() =>
        $"{sweepId}-{DateTime.UtcNow:yyyyMMddHHmmssfff}-{Guid.NewGuid().ToString("N")[..8]}";
}
