using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RichLazyOrleans.Results;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Engine;

/// <summary>
/// The sweep's machine-readable outputs beside its rows: DIR/points.parquet (one row per grid point), DIR/boundary.json
/// (the threshold level set of the linear estimate, refined sweeps only) and DIR/manifest.json. Refreshed while
/// results come in, at most every
/// <see cref="Interval"/>, and written once more when the sweep ends. Derived data: a failed write is logged and
/// tried again later, never a reason to fail the sweep.
/// </summary>
public sealed class SweepOutputs(SweepRuns runs, string resultsDir, ILogger logger, string sweepId)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private Stopwatch? _last;
    private int _writtenAt = -1;   // results told when last written

    /// <summary>Writes both files when results arrived since the last write and the interval has passed (or
    /// forced).</summary>
    public async Task RefreshAsync(SweepPlan plan, bool force)
    {
        if (plan.Told == _writtenAt || (!force && _last is not null && _last.Elapsed < Interval)) return;
        int told = plan.Told;
        try
        {
            var spec = runs.Spec;
            var points = plan.Points();
            var rows = points.Select(p =>
            {
                var (u, v) = runs.Lattice.Fractions(p.Point);
                // As the runs got them (integer axes rounded, see Axis.ValueAt).
                var axes = spec.Axes.Select((a, k) => a.ValueAt(k == 0 ? u : v)).ToArray();
                return new PointRow(axes, p.Point.I, p.Point.J, p.Depth, p.Order, Finite(p.Mean), Finite(p.StdError),
                    p.Seeds, p.Proposed);
            }).ToList();
            await PointsFile.WriteAsync(resultsDir, spec.Axes.Select(a => a.Name).ToList(), rows, spec.Refine?.Metric,
                spec.Threshold);
            if (spec.Threshold is not null)   // a grid or random sweep may have no threshold: no boundary to draw
            {
                var means = points.Where(p => double.IsFinite(p.Mean)).ToDictionary(p => p.Point, p => p.Mean);
                var json = BoundaryFile.Json(spec, new PhaseEstimate(runs.Lattice, means), means.Count);
                WriteText(Path.Combine(resultsDir, BoundaryFile.FileName), json);
            }
            _writtenAt = told;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("sweep {Sweep}: could not write points.parquet/boundary.json ({Error}); will retry",
                sweepId, e.Message.Split('\n')[0]);
        }
        _last = Stopwatch.StartNew();
    }

    private SweepManifest? _manifest;

    /// <summary>DIR/manifest.json as the sweep starts (<see cref="SweepManifest"/>).</summary>
    public void BeginManifest(string specYaml)
    {
        _manifest = SweepManifest.Begin(resultsDir, sweepId, runs.Spec.Kind, specYaml);
        if (!_manifest.TryWrite(resultsDir))
            logger.LogWarning("sweep {Sweep}: could not write {File}", sweepId, SweepManifest.FileName);
    }

    /// <summary>DIR/manifest.json as the sweep ends: its state, end time and the silos that wrote rows.</summary>
    public void FinishManifest(string state, IEnumerable<string> silos)
    {
        if (_manifest is null) return;
        _manifest = _manifest with
        {
            Silos = [.. _manifest.Silos.Union(silos).Order(StringComparer.Ordinal)],
            State = state,
            FinishedAt = DateTime.UtcNow,
            // Training runs set it in this process before their first tensor (TorchRuntime).
            MklCbwr = Environment.GetEnvironmentVariable("MKL_CBWR") ?? _manifest.MklCbwr,
        };
        if (!_manifest.TryWrite(resultsDir))
            logger.LogWarning("sweep {Sweep}: could not write {File}", sweepId, SweepManifest.FileName);
    }

    private static double? Finite(double x) => double.IsFinite(x) ? x : null;

    /// <summary>Temporary name, fsync, rename: a reader sees the old file or the new one, never half of one.</summary>
    private static void WriteText(string path, string text)
    {
        string tmp = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            {
                fs.Write(System.Text.Encoding.UTF8.GetBytes(text));
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}
