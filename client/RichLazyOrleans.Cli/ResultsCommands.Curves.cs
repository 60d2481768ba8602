using RichLazyOrleans.Engine;
using RichLazyOrleans.Results;
using RichLazyOrleans.Sweeps;
using ScottPlot;

namespace RichLazyOrleans.Cli;

/// <summary>`richlazy plot DIR --curves`: learning curves, one line per chosen grid point.</summary>
internal static partial class ResultsCommands
{
    /// <summary>
    /// The metric against step (rhm: training-set size) for each chosen grid point (see
    /// <see cref="CurveSelection"/>), the mean over seeds at each step, with each seed's curve drawn faintly
    /// behind it so the spread is visible. The step axis is logarithmic when <see cref="LogSpacing"/> says so.
    /// </summary>
    internal static async Task<string> CurvesAsync(string dir, string? metricName, string? output,
        IReadOnlyList<string> where, int maxPoints, CancellationToken ct)
    {
        var (spec, metric) = LoadSweep(dir, metricName);
        var all = await ResultFiles.ReadAllAsync(dir, ct);
        // Rows of diverged or failed runs sit at odd steps and would put one seed's spike into a mean: left out,
        // and counted in the title.
        var rows = all.Where(r => r.Status is "ok" or "converged" && r.Metric(metric) is { } v && double.IsFinite(v))
            .ToList();
        int leftOut = all.Count(r => r.Status is not ("ok" or "converged"));
        if (rows.Count == 0)
            throw new SpecException(
                $"no finite values of '{metric}' in rows with status ok in '{Path.Combine(dir, "runs")}'");
        bool bySize = rows.All(r => r.TrainSize is not null);
        double X(ResultRow r) => bySize ? r.TrainSize!.Value : r.Step;
        bool logX = LogSpacing.Prefers(rows.Select(X));
        // log10(x + 1) keeps step 0 on a log axis.
        double Xc(double x) => logX ? Math.Log10(x + 1) : x;

        var lattice = Lattice.For(spec);
        var byPoint = rows.GroupBy(r => new LatticePoint(r.LatticeI, r.LatticeJ))
            .ToDictionary(g => g.Key, g => g.ToList());
        var ordered = CurveSelection.Ordered(byPoint.Keys, lattice, spec.Axes);
        var chosen = CurveSelection.Select(ordered, spec.Axes, where, maxPoints);
        var plot = new Plot();
        IPalette palette = chosen.Count <= 10
            ? new ScottPlot.Palettes.Category10()
            : new ScottPlot.Palettes.Category20();
        for (int k = 0; k < chosen.Count; k++)
            DrawCurve(plot, byPoint[chosen[k].Key], X, Xc, metric, palette.GetColor(k),
                CurveSelection.Label(spec.Axes, chosen[k]));

        int seeds = rows.Select(r => r.Seed).Distinct().Count();
        // Short lines: the title is centred over the data area, which the legend beside it narrows.
        var lines = new List<string>
            { $"{spec.Name}: {metric}", $"{spec.Kind}, mean over {seeds} seed(s) (faint: each seed)" };
        if (chosen.Count < ordered.Count)
            lines.Add($"{chosen.Count} of {ordered.Count} grid points (choose with --where, --max-points)");
        if (leftOut > 0) lines.Add($"{leftOut} row(s) of diverged or failed runs left out");
        plot.Title(string.Join("\n", lines));
        string xName = bySize ? "training-set size" : "step";
        plot.XLabel(logX ? $"{xName} (log, x + 1)" : xName);
        plot.YLabel(metric);
        if (logX) StepTicks(plot, rows.Select(X).ToList());
        plot.ShowLegend(Edge.Right);   // beside the axes: inside, it covered the curves' late steps
        string path = output ?? Path.Combine(dir, $"curves-{metric}.png");
        Save(plot, path);
        return path;
    }

    private static void DrawCurve(Plot plot, List<ResultRow> point, Func<ResultRow, double> x, Func<double, double> xc,
        string metric, Color colour, string label)
    {
        bool severalSeeds = point.Select(r => r.Seed).Distinct().Count() > 1;   // one seed: the mean is the curve
        foreach (var seed in severalSeeds ? point.GroupBy(r => r.Seed) : [])
        {
            var run = seed.OrderBy(x).ToArray();
            var faint = plot.Add.Scatter(run.Select(r => xc(x(r))).ToArray(),
                run.Select(r => r.Metric(metric)!.Value).ToArray());
            faint.Color = colour.WithAlpha(0.25);
            faint.MarkerSize = 0;
            faint.LineWidth = 1;
        }
        var mean = point.GroupBy(x).OrderBy(g => g.Key).ToArray();
        var sc = plot.Add.Scatter(mean.Select(g => xc(g.Key)).ToArray(),
            mean.Select(g => g.Average(r => r.Metric(metric)!.Value)).ToArray());
        sc.Color = colour;
        sc.LineWidth = 2;
        sc.MarkerSize = 5;
        sc.LegendText = label;
    }

    /// <summary>Log ticks (decades; 2 and 5 on short ranges) at log10(x + 1), and "0" where step 0 sits.</summary>
    private static void StepTicks(Plot plot, List<double> xs)
    {
        double lo = xs.Where(x => x > 0).Min(), hi = xs.Max();
        var ticks = LogAxis.Generator(lo, hi, x => Math.Log10(x + 1));   // lo <= hi / 100: LogSpacing said so
        if (xs.Any(x => x == 0)) ticks.AddMajor(0, "0");
        plot.Axes.Bottom.TickGenerator = ticks;
    }
}
