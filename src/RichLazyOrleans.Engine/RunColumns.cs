using System.Text.Json.Nodes;
using RichLazyOrleans.Results;
using RichLazyOrleans.Theory;

namespace RichLazyOrleans.Engine;

/// <summary>
/// What every row of one run has in common, as result columns: ids, grid point, seed, tau/delta/alpha, the sweep's
/// axis values and the run's spec (params_json). Made once per run by the coordinator from the spec it sent, so
/// none of it travels with the rows; <see cref="Compose"/> joins it to a batch of typed rows.
/// </summary>
public sealed class RunColumns
{
    private readonly string _sweepId, _runId, _kind, _paramsJson;
    private readonly double? _tau, _delta, _alpha;
    private readonly long _seed;
    private readonly int _depth, _latticeI, _latticeJ;
    private readonly (string Name, double? Value)[] _axes;
    private readonly IReadOnlyList<string> _metrics;

    public RunColumns(string sweepId, string runId, string kind, JsonObject spec, IReadOnlyList<string> axes,
        long seed, int depth, int latticeI, int latticeJ, IReadOnlyList<string> metrics, string? specJson = null)
    {
        (_sweepId, _runId, _kind, _seed, _depth, _latticeI, _latticeJ) =
            (sweepId, runId, kind, seed, depth, latticeI, latticeJ);
        _paramsJson = specJson ?? spec.ToJsonString();
        (_tau, _delta, _alpha) = (RowFactory.Number(spec, "tau"), RowFactory.Number(spec, "delta"),
            RowFactory.Number(spec, "alpha"));
        if (_tau is { } t0 && _delta is { } d0 && _alpha is null) _alpha = Initialisation.Alpha(t0, d0);
        if (_tau is { } t1 && _alpha is { } a1 && _delta is null) _delta = Initialisation.Delta(t1, a1);
        // tau, delta and alpha have fixed columns; every other axis is a column of its own.
        _axes = axes.Where(a => a is not ("tau" or "delta" or "alpha"))
            .Select(a => (a, RowFactory.Number(spec, a))).ToArray();
        _metrics = metrics;
    }

    public string RunId => _runId;

    /// <summary>The batch's rows as result rows (one object per row; the run's strings are shared, not copied).
    /// </summary>
    public IEnumerable<ResultRow> Compose(RowBatch batch)
    {
        foreach (var r in batch.Rows)
        {
            var row = new ResultRow
            {
                SweepId = _sweepId, RunId = _runId, Kind = _kind, Tau = _tau, Delta = _delta, Alpha = _alpha,
                Seed = _seed, Step = r.Step, T = r.T, Depth = _depth, Status = r.Status,
                WallSeconds = r.WallSeconds, StartedAt = batch.StartedAt, FinishedAt = r.FinishedAt,
                QueuedSeconds = batch.QueuedSeconds, ResumedFromStep = r.ResumedFromStep,
                LatticeI = _latticeI, LatticeJ = _latticeJ, Silo = batch.Silo, ParamsJson = _paramsJson,
                Extra = new Dictionary<string, double?>(_metrics.Count + _axes.Length),
            };
            for (int m = 0; m < _metrics.Count && m < r.Metrics.Length; m++) row.Extra[_metrics[m]] = r.Metrics[m];
            foreach (var (name, value) in _axes) row.Extra[name] = value;
            yield return row;
        }
    }
}
