using System.CommandLine;
using System.Globalization;
using System.Text;
using RichLazyOrleans.Grains;
using RichLazyOrleans.Results;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Sweeps;
using ScottPlot;

namespace RichLazyOrleans.Cli;

/// <summary>`richlazy plot DIR` and `richlazy export DIR --csv`: looking at a sweep's results.</summary>
internal static class ResultsCommands
{
    public static Command Plot()
    {
        var dir = new Argument<DirectoryInfo>("dir") { Description = "results directory of a sweep (with runs/*.parquet and sweep.yaml)" };
        var metric = new Option<string?>("--metric") { Description = "metric to plot (default: the sweep's refine metric)" };
        var output = new Option<FileInfo?>("--out") { Description = "PNG to write (default: DIR/phase-METRIC.png, or DIR/curves-METRIC.png with --curves)" };
        var curves = new Option<bool>("--curves") { Description = "plot the metric against training step (rhm: training-set size), one line per grid point (seed mean), instead of its final value over the axes" };
        var cmd = new Command("plot", "PNG phase diagram of a sweep: the metric's field over the axes, the sampled points, the estimated boundary; or, with --curves, its learning curves.") { dir, metric, output, curves };
        cmd.SetAction(async (p, ct) =>
        {
            var path = p.GetValue(curves)
                ? await CurvesAsync(p.GetValue(dir)!.FullName, p.GetValue(metric), p.GetValue(output)?.FullName, ct)
                : await PlotAsync(p.GetValue(dir)!.FullName, p.GetValue(metric), p.GetValue(output)?.FullName, ct);
            Console.WriteLine($"wrote {path}");
            return 0;
        });
        return cmd;
    }

    public static Command Export()
    {
        var dir = new Argument<DirectoryInfo>("dir") { Description = "results directory of a sweep" };
        var csv = new Option<bool>("--csv") { Description = "write CSV (the only format so far)", Required = true };
        var output = new Option<FileInfo?>("--out") { Description = "file to write (default: DIR/results.csv)" };
        var cmd = new Command("export", "Export every result row of a sweep.") { dir, csv, output };
        cmd.SetAction(async (p, ct) =>
        {
            string d = p.GetValue(dir)!.FullName;
            var rows = await ResultFiles.ReadAllAsync(d, ct);
            if (rows.Count == 0) throw new SpecException($"no results in '{Path.Combine(d, "runs")}'");
            string path = p.GetValue(output)?.FullName ?? Path.Combine(d, "results.csv");
            AtomicFile.WriteAllText(path, Csv(rows));
            Console.WriteLine($"wrote {path} ({rows.Count} rows)");
            return 0;
        });
        return cmd;
    }

    private static readonly string[] Columns = ["sweep_id", "run_id", "kind", "tau", "delta", "alpha", "seed", "step",
        "t", "depth", "status", "wall_seconds", "resumed_from_step", "lattice_i", "lattice_j", "silo",
        "started_at", "finished_at", "queued_seconds", .. RunKindRegistry.MetricColumns];

    internal static string Csv(IReadOnlyList<ResultRow> rows)
    {
        // Then the extra columns (axes, a command kind's metrics) the rows carry, by name.
        var extras = ResultParquet.ExtraNames(rows.SelectMany(r => r.Extra?.Keys ?? Enumerable.Empty<string>()))
            .Where(n => !RunKindRegistry.MetricColumns.Contains(n)).ToArray();
        static string N(double? v) => v is { } x ? x.ToString("R", CultureInfo.InvariantCulture) : "";
        static string T(DateTime? t) => t is { } x
            ? x.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture)
            : "";
        var sb = new StringBuilder(string.Join(",", Columns.Concat(extras).Append("params_json"))).Append('\n');
        foreach (var r in rows.OrderBy(r => r.RunId, StringComparer.Ordinal).ThenBy(r => r.Step))
        {
            sb.Append(string.Join(",", new[]
            {
                r.SweepId, r.RunId, r.Kind, N(r.Tau), N(r.Delta), N(r.Alpha), r.Seed.ToString(CultureInfo.InvariantCulture), r.Step.ToString(CultureInfo.InvariantCulture),
                N(r.T), r.Depth.ToString(CultureInfo.InvariantCulture), r.Status, N(r.WallSeconds), r.ResumedFromStep.ToString(CultureInfo.InvariantCulture),
                r.LatticeI.ToString(CultureInfo.InvariantCulture), r.LatticeJ.ToString(CultureInfo.InvariantCulture), r.Silo,
                T(r.StartedAt), T(r.FinishedAt), N(r.QueuedSeconds),
            }.Concat(RunKindRegistry.MetricColumns.Select(m => N(r.Metric(m)))).Concat(extras.Select(m => N(r.Metric(m))))
                .Append(Quoted(r.ParamsJson)))).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>A CSV field in quotes (RFC 4180: inner quotes doubled), empty when there is nothing.</summary>
    private static string Quoted(string text) => text.Length == 0 ? "" : $"\"{text.Replace("\"", "\"\"")}\"";

    /// <summary>The sweep spec saved in DIR and the metric to plot (given, or the refine metric, or the kind's first).</summary>
    private static (SweepSpec Spec, string Metric) LoadSweep(string dir, string? metricName)
    {
        string specPath = Path.Combine(dir, "sweep.yaml");
        if (!File.Exists(specPath)) throw new SpecException($"'{specPath}' not found: plot needs the sweep spec that `sweep run` saves there");
        SweepSpec spec;
        try { spec = SweepSpec.Load(specPath, SweepCoordinatorGrain.Kinds); }
        catch (SweepSpecException e) { throw new SpecException(e.Message); }
        var metrics = SweepCoordinatorGrain.Kinds[spec.Kind].MetricsOf(spec.Params);
        string metric = metricName ?? spec.Refine?.Metric ?? metrics.Keys.FirstOrDefault()
            ?? throw new SpecException($"kind '{spec.Kind}' declares no metric to plot; give --metric");
        if (!RunKindRegistry.MetricColumns.Contains(metric) && !metrics.ContainsKey(metric))
            throw new SpecException($"--metric: unknown metric '{metric}'");
        return (spec, metric);
    }

    internal static async Task<string> PlotAsync(string dir, string? metricName, string? output, CancellationToken ct)
    {
        var (spec, metric) = LoadSweep(dir, metricName);
        var rows = await ResultFiles.ReadAllAsync(dir, ct);
        if (rows.Count == 0) throw new SpecException($"no results in '{Path.Combine(dir, "runs")}'");

        // Seed mean of the metric at each grid point's last checkpoint.
        var lattice = Lattice.For(spec);
        var values = rows.GroupBy(r => r.RunId)
            .Select(g => g.OrderBy(r => r.Step).Last())
            .Where(r => r.Metric(metric) is { } v && double.IsFinite(v))
            .GroupBy(r => new LatticePoint(r.LatticeI, r.LatticeJ))
            .ToDictionary(g => g.Key, g => g.Average(r => r.Metric(metric)!.Value));
        if (values.Count == 0) throw new SpecException($"no finite values of '{metric}' in the results");
        string path = output ?? Path.Combine(dir, $"phase-{metric}.png");
        double? threshold = spec.Refine?.Metric == metric ? spec.Refine.Threshold : null;
        if (spec.Axes.Count == 1) Line(path, spec, lattice, values, metric, threshold);
        else Map(path, spec, lattice, values, metric, threshold);
        return path;
    }

    /// <summary>At most this many curves are drawn (the grid points' order, initial lattice first); the title says when some are left out.</summary>
    internal const int MaxCurves = 10;   // one colour each (Category10)

    /// <summary>
    /// The metric against step (rhm: training-set size) for each grid point, the mean over seeds at
    /// each step, with each seed's curve drawn faintly behind it so the spread is visible.
    /// </summary>
    internal static async Task<string> CurvesAsync(string dir, string? metricName, string? output, CancellationToken ct)
    {
        var (spec, metric) = LoadSweep(dir, metricName);
        var all = await ResultFiles.ReadAllAsync(dir, ct);
        // Rows of diverged or failed runs sit at odd steps and would put one seed's spike into a mean: left out, and counted in the title.
        var rows = all.Where(r => r.Status is "ok" or "converged" && r.Metric(metric) is { } v && double.IsFinite(v))
            .ToList();
        int leftOut = all.Count(r => r.Status is not ("ok" or "converged"));
        if (rows.Count == 0) throw new SpecException($"no finite values of '{metric}' in rows with status ok in '{Path.Combine(dir, "runs")}'");
        bool bySize = rows.All(r => r.TrainSize is not null);
        double X(ResultRow r) => bySize ? r.TrainSize!.Value : r.Step;
        bool logX = rows.Select(X).Where(x => x > 0).DefaultIfEmpty(1).Max() / Math.Max(1, rows.Select(X).Where(x => x > 0).DefaultIfEmpty(1).Min()) >= 100;
        // log10(x + 1) keeps step 0 on a log axis.
        double Xc(double x) => logX ? Math.Log10(x + 1) : x;

        var lattice = Lattice.For(spec);
        var points = rows.GroupBy(r => new LatticePoint(r.LatticeI, r.LatticeJ))
            .OrderBy(g => lattice.DepthOf(g.Key)).ThenBy(g => g.Key.I).ThenBy(g => g.Key.J).ToList();
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int drawn = 0;
        foreach (var point in points.Take(MaxCurves))
        {
            var colour = palette.GetColor(drawn++);
            var (u, v) = lattice.Fractions(point.Key);
            string label = string.Join(", ", spec.Axes.Select((a, k) => $"{a.Name} = {a.ValueAt(k == 0 ? u : v):G3}"));
            bool severalSeeds = point.Select(r => r.Seed).Distinct().Count() > 1;   // one seed: the mean is the curve
            foreach (var seed in severalSeeds ? point.GroupBy(r => r.Seed) : [])
            {
                var run = seed.OrderBy(X).ToArray();
                var faint = plot.Add.Scatter(run.Select(r => Xc(X(r))).ToArray(), run.Select(r => r.Metric(metric)!.Value).ToArray());
                faint.Color = colour.WithAlpha(0.25);
                faint.MarkerSize = 0;
                faint.LineWidth = 1;
            }
            var mean = point.GroupBy(X).OrderBy(g => g.Key).ToArray();
            var sc = plot.Add.Scatter(mean.Select(g => Xc(g.Key)).ToArray(), mean.Select(g => g.Average(r => r.Metric(metric)!.Value)).ToArray());
            sc.Color = colour;
            sc.LineWidth = 2;
            sc.MarkerSize = 5;
            sc.LegendText = label;
        }
        int seeds = rows.Select(r => r.Seed).Distinct().Count();
        plot.Title($"{spec.Name}: {metric}\n{spec.Kind}, mean over {seeds} seed(s) (faint: each seed)" + (points.Count > MaxCurves ? $"; first {MaxCurves} of {points.Count} grid points" : "")
            + (leftOut > 0 ? $"; {leftOut} row(s) of diverged or failed runs left out" : ""));
        string xName = bySize ? "training-set size" : "step";
        plot.XLabel(logX ? $"{xName} (log, x + 1)" : xName);
        plot.YLabel(metric);
        if (logX)
        {
            var ticks = new ScottPlot.TickGenerators.NumericManual();
            double hi = rows.Max(X);
            for (double x = 1; x <= hi * 1.0001; x *= 10) ticks.AddMajor(Math.Log10(x + 1), x.ToString("G4", CultureInfo.InvariantCulture));
            if (rows.Any(r => X(r) == 0)) ticks.AddMajor(0, "0");
            plot.Axes.Bottom.TickGenerator = ticks;
        }
        plot.ShowLegend();
        string path = output ?? Path.Combine(dir, $"curves-{metric}.png");
        Save(plot, path);
        return path;
    }

    private static double AxisCoordinate(Axis a, double u) => a.Log ? Math.Log10(a.ValueAt(u)) : a.ValueAt(u);

    private static void LogTicks(IAxis axis, Axis a)
    {
        if (!a.Log) return;
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        double lo = Math.Log10(a.From), hi = Math.Log10(a.To);
        for (int e = (int)Math.Floor(lo); e <= (int)Math.Ceiling(hi); e++)
            if (e >= lo - 1e-6 && e <= hi + 1e-6) ticks.AddMajor(e, Math.Pow(10, e).ToString("G4", CultureInfo.InvariantCulture));
        if (hi - lo < 1.5)   // short log axes: label the ends too
        {
            ticks.AddMajor(lo, a.From.ToString("G3", CultureInfo.InvariantCulture));
            ticks.AddMajor(hi, a.To.ToString("G3", CultureInfo.InvariantCulture));
        }
        axis.TickGenerator = ticks;
    }

    private static void Map(string path, SweepSpec spec, Lattice lattice, Dictionary<LatticePoint, double> values, string metric, double? threshold)
    {
        // The linear estimate on a fine grid (as boundary.json): rows are the first axis (vertical), columns the
        // second.
        var estimate = new PhaseEstimate(lattice, values);
        const int res = 240;
        var raster = estimate.Raster(res);
        var data = new double[res, res];
        for (int i = 0; i < res; i++)
            for (int j = 0; j < res; j++) data[i, j] = raster[res - 1 - i, j];   // row 0 at the top
        bool complete = Mesh.Corners(lattice).All(values.ContainsKey);
        var plot = new Plot();
        Axis yAxis = spec.Axes[0], xAxis = spec.Axes[1];
        double x0 = AxisCoordinate(xAxis, 0), x1 = AxisCoordinate(xAxis, 1), y0 = AxisCoordinate(yAxis, 0), y1 = AxisCoordinate(yAxis, 1);
        if (complete)
        {
            var hm = plot.Add.Heatmap(data);
            hm.Colormap = new ScottPlot.Colormaps.Viridis();
            hm.Extent = new CoordinateRect(x0, x1, y0, y1);
            plot.Add.ColorBar(hm).Label = metric;
        }
        // Sampled points, one colour per refinement depth.
        Color[] palette = [Colors.White, Colors.Cyan, Colors.Orange, Colors.Magenta, Colors.LightGreen, Colors.Pink];
        foreach (var group in values.Keys.GroupBy(lattice.DepthOf).OrderBy(g => g.Key))
        {
            var xs = group.Select(p => AxisCoordinate(xAxis, lattice.Fractions(p).V)).ToArray();
            var ys = group.Select(p => AxisCoordinate(yAxis, lattice.Fractions(p).U)).ToArray();
            var sc = plot.Add.ScatterPoints(xs, ys);
            sc.MarkerSize = Math.Max(2, 6 - group.Key);
            sc.Color = palette[group.Key % palette.Length];
            sc.LegendText = $"depth {group.Key} ({group.Count()})";
        }
        // The estimated boundary: the threshold level set of the same estimate (what boundary.json holds).
        if (threshold is { } thr)
            foreach (var line in estimate.LevelSet(thr).Where(l => l.Count > 1))
            {
                var sc = plot.Add.Scatter(line.Select(p => AxisCoordinate(xAxis, p.V)).ToArray(),
                    line.Select(p => AxisCoordinate(yAxis, p.U)).ToArray());
                sc.Color = Colors.Red;
                sc.LineWidth = 2;
                sc.MarkerSize = 0;
            }
        plot.Title($"{spec.Name}: {metric}{(threshold is { } t2 ? $" (boundary at {t2:G3})" : "")}\n"
            + $"{spec.Kind}, {values.Count} grid points x {SeedsText(spec)}");
        plot.XLabel(xAxis.Name + (xAxis.Log ? " (log)" : ""));
        plot.YLabel(yAxis.Name + (yAxis.Log ? " (log)" : ""));
        LogTicks(plot.Axes.Left, yAxis);
        LogTicks(plot.Axes.Bottom, xAxis);
        plot.Axes.SetLimits(x0, x1, y0, y1);
        plot.ShowLegend(Alignment.UpperRight);
        Save(plot, path);
    }

    private static void Line(string path, SweepSpec spec, Lattice lattice, Dictionary<LatticePoint, double> values, string metric, double? threshold)
    {
        var axis = spec.Axes[0];
        var ordered = values.OrderBy(kv => kv.Key.I).ToArray();
        var plot = new Plot();
        var sc = plot.Add.Scatter(ordered.Select(kv => AxisCoordinate(axis, lattice.Fractions(kv.Key).U)).ToArray(), ordered.Select(kv => kv.Value).ToArray());
        sc.LegendText = $"{metric} ({values.Count} points)";
        if (threshold is { } t) plot.Add.HorizontalLine(t).LegendText = $"threshold {t:G3}";
        plot.Title($"{spec.Name}: {metric}\n{spec.Kind}, {SeedsText(spec)}");
        plot.XLabel(axis.Name + (axis.Log ? " (log)" : ""));
        plot.YLabel(metric);
        LogTicks(plot.Axes.Bottom, axis);
        plot.ShowLegend();
        Save(plot, path);
    }

    private static string SeedsText(SweepSpec spec) =>
        spec.SeedRange is { } r ? $"{r.Min}-{r.Max} seeds (adaptive)" : $"{spec.Seeds.Count} seed(s)";

    private static void Save(Plot plot, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string tmp = path + ".tmp-" + Environment.ProcessId + ".png";
        plot.SavePng(tmp, 1000, 780);
        File.Move(tmp, path, overwrite: true);
    }
}
