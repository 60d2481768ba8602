using RichLazyOrleans.Engine;
using System.Globalization;
using ScottPlot;

namespace RichLazyOrleans.Cli;

/// <summary>One tick of a log axis, in axis units (not log10); a null label is an unlabelled minor tick.</summary>
internal readonly record struct LogTick(double Value, string? Label)
{
    public bool Major => Label is not null;
}

/// <summary>
/// Ticks for log axes that a reader can read off: decades, and 2 and 5 between them on short axes, labelled
/// as plain numbers ("0.2", "1000") rather than ScottPlot's "1E+03".
/// </summary>
internal static class LogAxis
{
    /// <summary>Axes spanning fewer decades than this also label 2 and 5: a 0.1–2 axis would otherwise show one
    /// decade tick.</summary>
    internal const double ShortSpanDecades = 3;

    /// <summary>Beyond this many decades only every k-th decade is labelled, so labels do not collide.</summary>
    private const int MaxLabelledDecades = 10;

    /// <summary>Ticks from <paramref name="lo"/> to <paramref name="hi"/> (0 &lt; lo &lt; hi), ends included.</summary>
    public static IReadOnlyList<LogTick> Ticks(double lo, double hi)
    {
        if (!(lo > 0 && hi > lo)) throw new ArgumentException($"log axis needs 0 < lo < hi, got {lo}..{hi}");
        double span = Math.Log10(hi / lo);
        int[] labelled = span < ShortSpanDecades ? [1, 2, 5] : [1];
        int e0 = (int)Math.Floor(Math.Log10(lo)) - 1, e1 = (int)Math.Ceiling(Math.Log10(hi));
        int every = Math.Max(1, (int)Math.Ceiling(span / MaxLabelledDecades));
        bool minors = span <= MaxLabelledDecades;
        var ticks = new List<LogTick>();
        for (int e = e0; e <= e1; e++)
            for (int m = 1; m <= 9; m++)
            {
                double v = Decimal(m, e);
                if (!Within(v, lo, hi)) continue;
                bool label = labelled.Contains(m) && (m != 1 || Mod(e, every) == 0);
                if (label) ticks.Add(new LogTick(v, Format(v)));
                else if (minors) ticks.Add(new LogTick(v, null));
            }
        return ticks.Count(t => t.Major) >= 2 ? ticks : Denser(ticks, lo, hi);
    }

    /// <summary>A very short axis (e.g. 0.3–0.5) has fewer than two labelled ticks: label every mantissa, then
    /// the ends.</summary>
    private static List<LogTick> Denser(List<LogTick> ticks, double lo, double hi)
    {
        var all = ticks.Select(t => t with { Label = Format(t.Value) }).ToList();
        if (all.Count >= 2) return all;
        if (!all.Any(t => Near(t.Value, lo))) all.Insert(0, new LogTick(lo, Format(lo)));
        if (!all.Any(t => Near(t.Value, hi))) all.Add(new LogTick(hi, Format(hi)));
        return all;
    }

    /// <summary>
    /// A ScottPlot tick generator for an axis drawn at coordinate <paramref name="position"/>(value) (log10 by
    /// default) between the coordinates of lo and hi. Ticks are clamped to those ends so that rounding in
    /// the limits never hides the end labels.
    /// </summary>
    public static ScottPlot.TickGenerators.NumericManual Generator(double lo, double hi,
        Func<double, double>? position = null)
    {
        position ??= Math.Log10;
        double p0 = position(lo), p1 = position(hi);
        var generator = new ScottPlot.TickGenerators.NumericManual();
        foreach (var t in Ticks(lo, hi))
        {
            double p = Math.Clamp(position(t.Value), Math.Min(p0, p1), Math.Max(p0, p1));
            if (t.Label is { } label) generator.AddMajor(p, label);
            else generator.AddMinor(p);
        }
        return generator;
    }

    /// <summary>Sets <paramref name="axis"/>'s ticks for values lo..hi drawn at log10.</summary>
    public static void Apply(IAxis axis, double lo, double hi) => axis.TickGenerator = Generator(lo, hi);

    /// <summary>A plain label: "0.02", "5", "10000"; only outside 1e-4..1e6 a compact exponent ("2e-5", "1e6").
    /// </summary>
    public static string Format(double v)
    {
        double a = Math.Abs(v);
        if (a == 0 || (a >= 1e-4 && a < 1e6))
            return Math.Round(v, 10).ToString("0.##########", CultureInfo.InvariantCulture);
        int e = (int)Math.Floor(Math.Log10(a));
        double m = Math.Round(v / Math.Pow(10, e), 3);
        return $"{m.ToString("0.###", CultureInfo.InvariantCulture)}e{e}";
    }

    /// <summary>m·10^e without the drift of repeated multiplication (0.30000000000000004).</summary>
    private static double Decimal(int m, int e) => double.Parse($"{m}e{e}", CultureInfo.InvariantCulture);

    private static bool Within(double v, double lo, double hi) =>
        Math.Log10(v) >= Math.Log10(lo) - 1e-9 && Math.Log10(v) <= Math.Log10(hi) + 1e-9;

    private static bool Near(double a, double b) => Math.Abs(Math.Log10(a / b)) < 1e-9;

    private static int Mod(int a, int n) => ((a % n) + n) % n;
}

/// <summary>Whether a curve plot's x values (checkpoint steps, training-set sizes) read better on a log axis.</summary>
internal static class LogSpacing
{
    /// <summary>Positive x values must span at least this ratio (two decades) for a log axis.</summary>
    internal const double MinRatio = 100;

    /// <summary>
    /// The rule: the distinct positive values span at least two decades, and a log axis spreads them at
    /// least as evenly as a linear one: its largest gap between successive values, as a fraction of the
    /// axis, is no larger. Log-spaced checkpoints (0, 10, 100, 1000, 10000 or 1, 2, 5, 10, ...) pass;
    /// evenly spaced ones (0, 100, 200, ..., 20000) do not, however wide.
    /// </summary>
    public static bool Prefers(IEnumerable<double> xs)
    {
        var p = xs.Where(x => x > 0 && double.IsFinite(x)).Distinct().Order().ToArray();
        if (p.Length < 2 || p[^1] / p[0] < MinRatio) return false;
        return LargestGap(p, Math.Log10) <= LargestGap(p, x => x);
    }

    private static double LargestGap(double[] sorted, Func<double, double> f)
    {
        double a = f(sorted[0]), b = f(sorted[^1]), gap = 0;
        for (int i = 1; i < sorted.Length; i++) gap = Math.Max(gap, (f(sorted[i]) - f(sorted[i - 1])) / (b - a));
        return gap;
    }
}
