using RichLazyOrleans.Engine;
using System.Text.Json.Nodes;
using RichLazyOrleans.Grains;
using RichLazyOrleans.Results;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Silo.Pages;

/// <summary>
/// What the page shows of a results directory, read from its files as they are now: the spec it ran (sweep.yaml),
/// the grid points (points.parquet: seed means of the refine metric, proposal order), the estimate on a 48 × 48
/// raster (the same linear estimate as `richlazy plot` and boundary.json), and boundary.json's polylines.
/// </summary>
internal sealed record SweepView(SweepSpec Spec, string Dir, IReadOnlyList<PagePoint> Points, double[,]? Raster,
    IReadOnlyList<IReadOnlyList<(double U, double V)>> Boundary)
{
    private const int RasterSize = 48;

    public string RefineMetric => Spec.Refine?.Metric ?? Metrics.FirstOrDefault() ?? "";

    /// <summary>The sweep's metrics (its schema: a kind's declared outputs or a `command` spec's own), the refine
    /// metric first.</summary>
    public IReadOnlyList<string> Metrics => SweepSchema.For(Spec).MetricsRefineFirst;

    public IEnumerable<string> Downloads =>
        Directory.EnumerateFiles(Dir).Select(System.IO.Path.GetFileName).OfType<string>()
            .Where(f => f is "points.parquet" or "boundary.json" or "manifest.json" or "sweep.yaml"
                || f.EndsWith(".png"))
            .Order();

    /// <summary>Null when the directory has no sweep.yaml yet (the sweep is only starting).</summary>
    public static async Task<SweepView?> LoadAsync(string dir)
    {
        string yaml = System.IO.Path.Combine(dir, "sweep.yaml");
        if (!System.IO.File.Exists(yaml)) return null;
        var spec = SweepSpec.Load(yaml, KindCatalog.Kinds);
        var lattice = Lattice.For(spec);
        var rows = System.IO.File.Exists(System.IO.Path.Combine(dir, PointsFile.FileName))
            ? (await PointsFile.ReadAsync(dir, spec.Axes.Select(a => a.Name).ToArray())).Rows : [];
        var points = rows.Select(r =>
        {
            var (u, v) = lattice.Fractions(new LatticePoint(r.LatticeI, r.LatticeJ));
            return new PagePoint(u, v, r.Mean, r.Order, r.Depth);
        }).ToList();
        var known = rows.Where(r => r.Mean is { } m && double.IsFinite(m))
            .ToDictionary(r => new LatticePoint(r.LatticeI, r.LatticeJ), r => r.Mean!.Value);
        double[,]? raster = known.Count >= 3 && spec.Axes.Count == 2
            ? new PhaseEstimate(lattice, known).Raster(RasterSize) : null;
        return new SweepView(spec, dir, points, raster, ReadBoundary(dir, spec));
    }

    /// <summary>boundary.json's polylines in axis fractions (empty until the coordinator writes one).</summary>
    private static IReadOnlyList<IReadOnlyList<(double U, double V)>> ReadBoundary(string dir, SweepSpec spec)
    {
        string path = System.IO.Path.Combine(dir, BoundaryFile.FileName);
        if (!System.IO.File.Exists(path)) return [];
        JsonNode? doc;
        try { doc = JsonNode.Parse(System.IO.File.ReadAllText(path)); }
        catch (System.Text.Json.JsonException) { return []; }   // written atomically, but be safe
        if (doc?["polylines"] is not JsonArray lines) return [];
        return lines.OfType<JsonArray>().Select(line => (IReadOnlyList<(double, double)>)line.OfType<JsonObject>()
            .Select(o => (spec.Axes[0].FractionOf(o[spec.Axes[0].Name]!.GetValue<double>()),
                spec.Axes.Count == 2 ? spec.Axes[1].FractionOf(o[spec.Axes[1].Name]!.GetValue<double>()) : 0.0))
            .ToList()).ToList();
    }

    /// <summary>The metric against step for the <paramref name="runs"/> runs written last (a file holds one run, or a
    /// batch of short ones), labelled by their axis values and seed; a log step axis when the steps span more than
    /// two decades.</summary>
    public async Task<string> CurvesSvgAsync(string metric, int runs)
    {
        string runsDir = ResultFiles.RunsDirectory(Dir);
        if (!Directory.Exists(runsDir)) return SweepSvg.Curves(metric, [], false, "step");
        var files = new DirectoryInfo(runsDir).EnumerateFiles("*.parquet")
            .OrderByDescending(f => f.LastWriteTimeUtc).Take(runs).ToList();
        var lattice = Lattice.For(Spec);
        var series = new List<(string, IReadOnlyList<(double, double)>)>();
        foreach (var f in files)
        {
            IReadOnlyList<ResultRow> rows;
            try { rows = await ResultFiles.ReadRunAsync(f.FullName); }
            catch (IOException) { continue; }   // replaced while we read: the next refresh has it
            foreach (var run in rows.GroupBy(r => r.RunId).OrderByDescending(g => g.Max(r => r.FinishedAt)))
            {
                if (series.Count == runs) break;
                var first = run.First();
                var (u, v) = lattice.Fractions(new LatticePoint(first.LatticeI, first.LatticeJ));
                string label = string.Join(", ",
                    Spec.Axes.Select((a, i) => $"{a.Name}={SweepSvg.Tick(a.ValueAt(i == 0 ? u : v))}"))
                    + $", seed {first.Seed}";
                series.Add((label, run.OrderBy(r => r.Step)
                    .Select(r => ((double)r.Step, r.Metric(metric) ?? double.NaN)).ToList()));
            }
            if (series.Count == runs) break;
        }
        var steps = series.SelectMany(s => s.Item2).Select(p => p.Item1).Where(x => x > 0).ToList();
        bool logX = steps.Count > 0 && steps.Max() / steps.Min() > 100;
        return SweepSvg.Curves(metric, series, logX, "step");
    }
}
