using RichLazyOrleans.Engine;
using System.Globalization;
using System.Net;
using System.Text;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Silo.Pages;

/// <summary>A sampled grid point as the page draws it: axis fractions, seed mean (null until known) and the place
/// in the proposal order.</summary>
public sealed record PagePoint(double U, double V, double? Mean, int Order, int Depth);

/// <summary>
/// Server-rendered SVG for the live sweep page (no script, no fonts or libraries fetched): the phase-diagram estimate
/// and learning curves. Pure: the same inputs give the same text, which the tests read.
/// </summary>
public static class SweepSvg
{
    private const int W = 640, H = 480, Left = 70, Right = 90, Top = 20, Bottom = 50;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// The estimate's raster (cells in axis fractions, [a, b] = (u, v), NaN where unknown) as a heat map, the sampled
    /// points coloured from blue (first proposed) to orange (latest), and the boundary polylines (axis fractions).
    /// The first axis runs up, the second across (as `richlazy plot`); a one-axis sweep draws the first across.
    /// </summary>
    public static string Phase(IReadOnlyList<Axis> axes, double[,]? raster, IReadOnlyList<PagePoint> points,
        IReadOnlyList<IReadOnlyList<(double U, double V)>> boundary, string metric)
    {
        var svg = new StringBuilder();
        svg.Append(Inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"phase\" width=\"{W}\" height=\"{H}\" ")
            .Append(Inv, $"viewBox=\"0 0 {W} {H}\" data-points=\"{points.Count}\" data-boundary=\"{boundary.Count}\">");
        bool twoD = axes.Count == 2;
        (double X, double Y) At(double u, double v) => twoD
            ? (Left + v * (W - Left - Right), H - Bottom - u * (H - Top - Bottom))
            : (Left + u * (W - Left - Right), H - Bottom - v * (H - Top - Bottom));
        var values = points.Where(p => p.Mean is { } m && double.IsFinite(m)).Select(p => p.Mean!.Value).ToList();
        double lo = values.Count > 0 ? values.Min() : 0, hi = values.Count > 0 ? values.Max() : 1;
        if (twoD && raster is not null) HeatMap(svg, raster, lo, hi, At);
        if (!twoD) LineOfMeans(svg, points, lo, hi, At);
        foreach (var line in boundary.Where(l => l.Count > 0))
        {
            var xy = line.Select(p => At(p.U, p.V)).ToList();
            if (xy.Count == 1) svg.Append(Inv, $"<line class=\"boundary\" x1=\"{xy[0].X:F1}\" y1=\"{Top}\" ")
                .Append(Inv, $"x2=\"{xy[0].X:F1}\" y2=\"{H - Bottom}\" stroke=\"red\" stroke-width=\"2\"/>");
            else svg.Append("<polyline class=\"boundary\" fill=\"none\" stroke=\"red\" stroke-width=\"2\" points=\"")
                .AppendJoin(' ', xy.Select(p => string.Format(Inv, "{0:F1},{1:F1}", p.X, p.Y))).Append("\"/>");
        }
        int maxOrder = points.Count == 0 ? 1 : Math.Max(1, points.Max(p => p.Order));
        foreach (var p in points)
        {
            var (x, y) = At(p.U, twoD ? p.V : Scale(p.Mean, lo, hi));
            double f = p.Order / (double)maxOrder;
            svg.Append(Inv, $"<circle class=\"point\" cx=\"{x:F1}\" cy=\"{y:F1}\" r=\"{Math.Max(2.5, 5 - p.Depth)}\" ")
                .Append(Inv, $"fill=\"{OrderColour(f)}\" stroke=\"black\" stroke-width=\"0.6\">")
                .Append(Inv, $"<title>#{p.Order} depth {p.Depth}: {Text(p.Mean)}</title></circle>");
        }
        AxisLabels(svg, axes, twoD, metric, lo, hi);
        return svg.Append("</svg>").ToString();
    }

    private static double Scale(double? v, double lo, double hi) =>
        v is { } x && double.IsFinite(x) ? (hi > lo ? (x - lo) / (hi - lo) : 0.5) : 0;

    private static void HeatMap(StringBuilder svg, double[,] r, double lo, double hi,
        Func<double, double, (double X, double Y)> at)
    {
        int m = r.GetLength(0), n = r.GetLength(1);
        double cw = (W - Left - Right) / (double)n, ch = (H - Top - Bottom) / (double)m;
        for (int a = 0; a < m; a++)
            for (int b = 0; b < n; b++)
            {
                if (!double.IsFinite(r[a, b])) continue;
                var (x, y) = at((a + 1.0) / m, b / (double)n);
                svg.Append(Inv, $"<rect x=\"{x:F1}\" y=\"{y:F1}\" width=\"{cw + 0.6:F1}\" height=\"{ch + 0.6:F1}\" ")
                    .Append(Inv, $"fill=\"{Viridis(Scale(r[a, b], lo, hi))}\"/>");
            }
    }

    private static void LineOfMeans(StringBuilder svg, IReadOnlyList<PagePoint> points, double lo, double hi,
        Func<double, double, (double X, double Y)> at)
    {
        var known = points.Where(p => p.Mean is not null).OrderBy(p => p.U).ToList();
        if (known.Count < 2) return;
        svg.Append("<polyline class=\"means\" fill=\"none\" stroke=\"#355\" stroke-width=\"1.5\" points=\"")
            .AppendJoin(' ', known.Select(p => at(p.U, Scale(p.Mean, lo, hi)))
                .Select(p => string.Format(Inv, "{0:F1},{1:F1}", p.X, p.Y))).Append("\"/>");
    }

    private static void AxisLabels(StringBuilder svg, IReadOnlyList<Axis> axes, bool twoD, string metric,
        double lo, double hi)
    {
        svg.Append(Inv, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{W - Left - Right}\" height=\"{H - Top - Bottom}\" ")
            .Append("fill=\"none\" stroke=\"#333\"/>");
        var across = twoD ? axes[1] : axes[0];
        foreach (var (f, label) in Ticks(across))
            svg.Append(Inv, $"<text x=\"{Left + f * (W - Left - Right):F0}\" y=\"{H - Bottom + 16}\" font-size=\"11\" ")
                .Append("text-anchor=\"middle\">").Append(label).Append("</text>");
        var up = twoD ? Ticks(axes[0])
            : [.. new[] { 0, 0.25, 0.5, 0.75, 1 }.Select(f => (f, Tick(lo + f * (hi - lo))))];
        foreach (var (f, label) in up)
            svg.Append(Inv, $"<text x=\"{Left - 6}\" y=\"{H - Bottom - f * (H - Top - Bottom) + 4:F0}\" ")
                .Append("font-size=\"11\" text-anchor=\"end\">").Append(label).Append("</text>");
        string acrossName = across.Name + (across.Log ? " (log)" : "");
        string upName = twoD ? axes[0].Name + (axes[0].Log ? " (log)" : "") : metric;
        svg.Append(Inv, $"<text x=\"{(W - Right + Left) / 2}\" y=\"{H - 12}\" font-size=\"13\" text-anchor=\"middle\">")
            .Append(Esc(acrossName)).Append("</text>")
            .Append(Inv, $"<text x=\"16\" y=\"{(H - Bottom + Top) / 2}\" font-size=\"13\" text-anchor=\"middle\" ")
            .Append(Inv, $"transform=\"rotate(-90 16 {(H - Bottom + Top) / 2})\">").Append(Esc(upName))
            .Append("</text>");
        if (!twoD) return;
        for (int i = 0; i < 40; i++)   // the colour bar: the metric's range over the sampled points
        {
            double y = H - Bottom - (i + 1) * (H - Top - Bottom) / 40.0, height = (H - Top - Bottom) / 40.0 + 0.5;
            svg.Append(Inv, $"<rect x=\"{W - Right + 20}\" y=\"{y:F1}\" width=\"16\" height=\"{height:F1}\" ")
                .Append(Inv, $"fill=\"{Viridis(i / 39.0)}\"/>");
        }
        svg.Append(Inv, $"<text x=\"{W - Right + 40}\" y=\"{Top + 10}\" font-size=\"11\">{Tick(hi)}</text>")
            .Append(Inv, $"<text x=\"{W - Right + 40}\" y=\"{H - Bottom}\" font-size=\"11\">{Tick(lo)}</text>")
            .Append(Inv, $"<text x=\"{W - Right + 20}\" y=\"{Top + (H - Top - Bottom) / 2}\" font-size=\"11\" ")
            .Append(Inv, $"transform=\"rotate(90 {W - Right + 44} {Top + (H - Top - Bottom) / 2})\">")
            .Append(Esc(metric)).Append("</text>");
    }

    /// <summary>
    /// One polyline per series (label, points (x, y)); x on a log scale when <paramref name="logX"/> (x &gt; 0 only).
    /// </summary>
    public static string Curves(string metric,
        IReadOnlyList<(string Label, IReadOnlyList<(double X, double Y)> Xy)> series, bool logX, string xName)
    {
        var svg = new StringBuilder();
        var all = series.SelectMany(s => s.Xy).Where(p => double.IsFinite(p.Y) && (!logX || p.X > 0)).ToList();
        // Wider than the phase diagram: the legend (axis values and seed per curve) sits to the right.
        const int W = SweepSvg.W + 200, Right = SweepSvg.Right + 200;
        svg.Append(Inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"curves\" width=\"{W}\" height=\"{H}\" ")
            .Append(Inv, $"viewBox=\"0 0 {W} {H}\" data-series=\"{series.Count}\">");
        if (all.Count == 0)
            return svg.Append(Inv, $"<text x=\"{W / 2}\" y=\"{H / 2}\" text-anchor=\"middle\">no rows of ")
                .Append(Esc(metric)).Append(" yet</text></svg>").ToString();
        double Fx(double x) => logX ? Math.Log10(x) : x;
        double x0 = all.Min(p => Fx(p.X)), x1 = all.Max(p => Fx(p.X)), y0 = all.Min(p => p.Y), y1 = all.Max(p => p.Y);
        if (x1 <= x0) x1 = x0 + 1;
        if (y1 <= y0) y1 = y0 + 1;
        (double, double) At(double x, double y) =>
            (Left + (Fx(x) - x0) / (x1 - x0) * (W - Left - Right),
                H - Bottom - (y - y0) / (y1 - y0) * (H - Top - Bottom));
        for (int i = 0; i < series.Count; i++)
        {
            var pts = series[i].Xy.Where(p => double.IsFinite(p.Y) && (!logX || p.X > 0)).Select(p => At(p.X, p.Y))
                .ToList();
            string colour = Palette[i % Palette.Length];
            svg.Append(Inv, $"<polyline class=\"curve\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" ")
                .Append("points=\"")
                .AppendJoin(' ', pts.Select(p => string.Format(Inv, "{0:F1},{1:F1}", p.Item1, p.Item2))).Append("\"/>");
            foreach (var (x, y) in pts)   // a marker per checkpoint: a run with one row is a dot, not nothing
                svg.Append(Inv, $"<circle cx=\"{x:F1}\" cy=\"{y:F1}\" r=\"2.5\" fill=\"{colour}\"/>");
            svg
                .Append(Inv, $"<text x=\"{W - Right + 4}\" y=\"{Top + 12 + 13 * i}\" font-size=\"10\" ")
                .Append(Inv, $"fill=\"{colour}\">")
                .Append(Esc(series[i].Label)).Append("</text>");
        }
        svg.Append(Inv, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{W - Left - Right}\" height=\"{H - Top - Bottom}\" ")
            .Append("fill=\"none\" stroke=\"#333\"/>");
        foreach (double f in new[] { 0, 0.5, 1 })
        {
            double xv = x0 + f * (x1 - x0), yv = y0 + f * (y1 - y0);
            svg.Append(Inv, $"<text x=\"{Left + f * (W - Left - Right):F0}\" y=\"{H - Bottom + 16}\" font-size=\"11\" ")
                .Append("text-anchor=\"middle\">").Append(Tick(logX ? Math.Pow(10, xv) : xv)).Append("</text>")
                .Append(Inv, $"<text x=\"{Left - 6}\" y=\"{H - Bottom - f * (H - Top - Bottom) + 4:F0}\" ")
                .Append("font-size=\"11\" ")
                .Append("text-anchor=\"end\">").Append(Tick(yv)).Append("</text>");
        }
        svg.Append(Inv, $"<text x=\"{(W - Right + Left) / 2}\" y=\"{H - 12}\" font-size=\"13\" text-anchor=\"middle\">")
            .Append(Esc(xName + (logX ? " (log)" : ""))).Append("</text>");
        return svg.Append("</svg>").ToString();
    }

    /// <summary>
    /// Tick positions (axis fractions) and labels: on a log axis 1, 2 and 5 times each decade inside the range (only
    /// the decades when it spans more than three), on a linear one five even steps.
    /// </summary>
    public static IReadOnlyList<(double F, string Label)> Ticks(Axis a)
    {
        if (!a.Log) return [.. new[] { 0, 0.25, 0.5, 0.75, 1 }.Select(f => (f, Tick(a.ValueAt(f))))];
        double lo = Math.Min(a.From, a.To), hi = Math.Max(a.From, a.To);
        int[] mantissas = Math.Log10(hi / lo) > 3 ? [1] : [1, 2, 5];
        var ticks = new List<(double, string)>();
        for (int e = (int)Math.Floor(Math.Log10(lo)); e <= (int)Math.Ceiling(Math.Log10(hi)); e++)
            foreach (int m in mantissas)
            {
                double v = m * Math.Pow(10, e);
                if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.Add((a.FractionOf(v), Tick(v)));
            }
        return ticks;
    }

    private static readonly string[] Palette =
        ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    /// <summary>Viridis through five stops, linearly between them.</summary>
    public static string Viridis(double f)
    {
        (double R, double G, double B)[] stops =
            [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)];
        f = Math.Clamp(double.IsFinite(f) ? f : 0, 0, 1) * (stops.Length - 1);
        int i = Math.Min((int)f, stops.Length - 2);
        double t = f - i;
        var (a, b) = (stops[i], stops[i + 1]);
        return string.Format(Inv, "rgb({0:F0},{1:F0},{2:F0})", a.R + t * (b.R - a.R), a.G + t * (b.G - a.G),
            a.B + t * (b.B - a.B));
    }

    /// <summary>First proposed blue, latest orange: the order the planner spent runs in.</summary>
    private static string OrderColour(double f) =>
        string.Format(Inv, "rgb({0:F0},{1:F0},{2:F0})", 40 + 215 * f, 110 + 40 * f, 220 - 200 * f);

    public static string Tick(double v) => !double.IsFinite(v) ? ""
        : Math.Abs(v) >= 1e4 || (v != 0 && Math.Abs(v) < 1e-3) ? v.ToString("0.##e0", Inv) : v.ToString("G3", Inv);

    private static string Text(double? v) => v is { } x ? x.ToString("G4", Inv) : "pending";

    internal static string Esc(string s) => WebUtility.HtmlEncode(s);
}
