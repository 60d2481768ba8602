using System.Text.Json.Nodes;
using RichLazyOrleans.Results;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Engine;

/// <summary>
/// The columns of one sweep's results, decided once from its spec: the fixed columns (<see cref="FixedColumns"/>),
/// its axes (each a column named after it, integer axes holding integers) and its metrics (the kind's declared
/// outputs, or a `command` spec's own `metrics`), and nothing else: no other kind's metrics. Parquet files,
/// points.parquet, the live page, `plot` and `export` read it (ENGINEERING.md: a sweep's files hold the fixed
/// columns, its axes, its metrics and `params_json`).
/// </summary>
public sealed record SweepSchema(string Kind, IReadOnlyList<Axis> Axes, IReadOnlyList<string> Metrics,
    string? RefineMetric)
{
    /// <summary>The columns every result file has, in file order.</summary>
    public static IReadOnlyList<string> FixedColumns => ResultParquet.FixedNames;

    /// <summary>The sweep's own columns after the fixed ones (axes and metrics; tau, delta and alpha are fixed
    /// columns already), sorted by name as the files hold them.</summary>
    public IReadOnlyList<string> ExtraColumns { get; } =
        ResultParquet.ExtraNames(Axes.Select(a => a.Name).Concat(Metrics));

    /// <summary>The metrics with the refinement metric first (what a page or plot offers, in that order).</summary>
    public IReadOnlyList<string> MetricsRefineFirst => [.. Metrics.OrderBy(m => m != RefineMetric)];

    public static SweepSchema For(SweepSpec spec) =>
        new(spec.Kind, spec.Axes, MetricsOf(RunKindRegistry.Get(spec.Kind), spec.Params), spec.Refine?.Metric);

    /// <summary>
    /// Every number a run of this kind reports as a column: a built-in kind's declared outputs
    /// (<see cref="IRunKind.OutputColumns"/>), or for an open kind (`command`) the metrics its spec declares. The
    /// one place that decides it, for the sweep's files and for the rows a run makes.
    /// </summary>
    public static IReadOnlyList<string> MetricsOf(IRunKind kind, JsonObject spec) =>
        [.. kind.OutputColumns.Concat(kind.Open ? CommandRun.DeclaredMetrics(spec) : []).Distinct()];
}
