using RichLazyOrleans.Engine;
using System.CommandLine;
using RichLazyOrleans.Grains;
using RichLazyOrleans.Results;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Sweeps;
using ScottPlot;

namespace RichLazyOrleans.Cli;

/// <summary>`richlazy plot DIR`: a sweep's phase diagram (curves and export in the other partial files).</summary>
internal static partial class ResultsCommands
{
    public static Command Plot()
    {
        var dir = new Argument<DirectoryInfo>("dir")
            { Description = "results directory of a sweep (with runs/*.parquet and sweep.yaml)" };
        var metric = new Option<string?>("--metric")
            { Description = "metric to plot (default: the sweep's refine metric)" };
        var output = new Option<FileInfo?>("--out")
            { Description = "PNG to write (default: DIR/phase-METRIC.png, or DIR/curves-METRIC.png with --curves)" };
        var curves = new Option<bool>("--curves")
        {
            Description = "plot the metric against training step (rhm: training-set size), one line per grid point "
                + "(seed mean), instead of its final value over the axes; the step axis is log when the steps are "
                + "log-spaced",
        };
        var where = new Option<string[]>("--where")
        {
            Description = "with --curves: only the points on the grid value of AXIS nearest VALUE (repeatable, "
                + "all must hold; e.g. --where tau=0.1 --where delta=0)",
            HelpName = "AXIS=VALUE",
            AllowMultipleArgumentsPerToken = false,
        };
        var maxPoints = new Option<int>("--max-points")
        {
            Description = "with --curves: draw at most N grid points, spread evenly over the points ordered by "
                + $"their axis values (1-{CurveSelection.MostPoints})",
            HelpName = "N",
            DefaultValueFactory = _ => CurveSelection.DefaultMaxPoints,
        };
        var cmd = new Command("plot", "PNG phase diagram of a sweep: the metric's field over the axes, the sampled "
            + "points, the estimated boundary; or, with --curves, its learning curves.")
            { dir, metric, output, curves, where, maxPoints };
        cmd.SetAction(async (p, ct) =>
        {
            string d = p.GetValue(dir)!.FullName;
            // A phase diagram draws every point: silently ignoring a selection would mislead.
            bool selects = p.GetResult(where) is not null || p.GetResult(maxPoints) is { Implicit: false };
            if (!p.GetValue(curves) && selects)
                throw new SpecException("--where and --max-points choose the curves of --curves; add --curves");
            var path = p.GetValue(curves)
                ? await CurvesAsync(d, p.GetValue(metric), p.GetValue(output)?.FullName, p.GetValue(where) ?? [],
                    p.GetValue(maxPoints), ct)
                : await PlotAsync(d, p.GetValue(metric), p.GetValue(output)?.FullName, ct);
            Console.WriteLine($"wrote {path}");
            return 0;
        });
        return cmd;
    }

    /// <summary>The sweep spec saved in DIR and the metric to plot (given, or the refine metric, or the kind's
    /// first).</summary>
    private static (SweepSpec Spec, string Metric) LoadSweep(string dir, string? metricName)
    {
        string specPath = Path.Combine(dir, "sweep.yaml");
        if (!File.Exists(specPath))
            throw new SpecException($"'{specPath}' not found: plot needs the sweep spec that `sweep run` saves there");
        var spec = SweepSpec.Load(specPath, KindCatalog.Kinds);
        var metrics = SweepSchema.For(spec).MetricsRefineFirst;
        string metric = metricName ?? metrics.FirstOrDefault()
            ?? throw new SpecException($"kind '{spec.Kind}' declares no metric to plot; give --metric");
        if (!metrics.Contains(metric))
            throw new SpecException(
                $"--metric: unknown metric '{metric}' (this sweep's: {string.Join(", ", metrics)})");
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
        double? threshold = spec.Refine?.Metric == metric ? spec.Threshold : null;
        if (spec.Axes.Count == 1) Line(path, spec, lattice, values, metric, threshold);
        else Map(path, spec, lattice, values, metric, threshold);
        return path;
    }

    private static double AxisCoordinate(Axis a, double u) => a.Log ? Math.Log10(a.ValueAt(u)) : a.ValueAt(u);

    private static double End(Axis a, double value) => a.Log ? Math.Log10(value) : value;

    /// <summary>Readable log ticks (see <see cref="LogAxis"/>) on a log sweep axis; linear axes keep ScottPlot's.
    /// </summary>
    private static void LogTicks(IAxis axis, Axis a)
    {
        if (a.Log) LogAxis.Apply(axis, Math.Min(a.From, a.To), Math.Max(a.From, a.To));
    }

    private static void Map(string path, SweepSpec spec, Lattice lattice, Dictionary<LatticePoint, double> values,
        string metric, double? threshold)
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
        // The ends from the spec itself: log10(exp(log(0.1))) lands a hair inside -1 and would hide the 0.1 tick.
        double x0 = End(xAxis, xAxis.From), x1 = End(xAxis, xAxis.To);
        double y0 = End(yAxis, yAxis.From), y1 = End(yAxis, yAxis.To);
        if (complete)
        {
            var hm = plot.Add.Heatmap(data);
            hm.Colormap = new ScottPlot.Colormaps.Viridis();
            hm.Extent = new CoordinateRect(x0, x1, y0, y1);
            plot.Add.ColorBar(hm).Label = metric;
        }
        DepthMarkers(plot, lattice, values.Keys,
            p => (AxisCoordinate(xAxis, lattice.Fractions(p).V), AxisCoordinate(yAxis, lattice.Fractions(p).U)));
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

    /// <summary>Fill colour of the sampled points per refinement depth (depth 0: the initial lattice).</summary>
    internal static readonly Color[] DepthColours =
        [Colors.White, Colors.Cyan, Colors.Orange, Colors.Magenta, Colors.LightGreen, Colors.Pink];

    /// <summary>
    /// The sampled points, one colour per refinement depth, each with a dark outline: white depth-0 points
    /// vanished on the light end of the colour map and in the legend's white box. The legend gets its own
    /// markers at one readable size (the map's deeper points are drawn smaller to keep the field visible).
    /// </summary>
    private static void DepthMarkers(Plot plot, Lattice lattice, IEnumerable<LatticePoint> points,
        Func<LatticePoint, (double X, double Y)> at)
    {
        foreach (var group in points.GroupBy(lattice.DepthOf).OrderBy(g => g.Key))
        {
            var xy = group.Select(at).ToArray();
            var fill = DepthColours[group.Key % DepthColours.Length];
            var sc = plot.Add.ScatterPoints(xy.Select(p => p.X).ToArray(), xy.Select(p => p.Y).ToArray());
            sc.MarkerStyle = DepthMarker(fill, Math.Max(3, 7 - group.Key), group.Key <= 2 ? 1 : 0.6f);
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = $"depth {group.Key} ({group.Count()})",
                MarkerStyle = DepthMarker(fill, 8, 1),
            });
        }
    }

    private static MarkerStyle DepthMarker(Color fill, float size, float outline) =>
        new(MarkerShape.FilledCircle, size, fill)
            { OutlineColor = Colors.Black.WithAlpha(0.85), OutlineWidth = outline };

    private static void Line(string path, SweepSpec spec, Lattice lattice, Dictionary<LatticePoint, double> values,
        string metric, double? threshold)
    {
        var axis = spec.Axes[0];
        var ordered = values.OrderBy(kv => kv.Key.I).ToArray();
        var plot = new Plot();
        var sc = plot.Add.Scatter(ordered.Select(kv => AxisCoordinate(axis, lattice.Fractions(kv.Key).U)).ToArray(),
            ordered.Select(kv => kv.Value).ToArray());
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
