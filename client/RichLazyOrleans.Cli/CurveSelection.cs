using RichLazyOrleans.Engine;
using System.Globalization;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Cli;

/// <summary>One grid point of a sweep and its axis values, in the spec's axis order.</summary>
internal sealed record GridPoint(LatticePoint Key, double[] Values);

/// <summary>
/// Which grid points `plot --curves` draws. Points are ordered by their axis values (first axis, then the
/// second); `--where AXIS=VALUE` keeps the points on the grid value of AXIS nearest VALUE (repeatable: all
/// must hold); of what is left, at most `--max-points` are drawn, spread evenly over that order (both ends
/// included) rather than the first N, so a plot shows the whole range of the axes.
/// </summary>
internal static class CurveSelection
{
    internal const int DefaultMaxPoints = 10;   // one Category10 colour each
    internal const int MostPoints = 20;         // Category20: more curves than this are unreadable

    /// <summary>The points in drawing order: by first axis value, then second.</summary>
    public static List<GridPoint> Ordered(IEnumerable<LatticePoint> keys, Lattice lattice, IReadOnlyList<Axis> axes)
    {
        return keys.Select(k =>
            {
                var (u, v) = lattice.Fractions(k);
                return new GridPoint(k, axes.Select((a, i) => a.ValueAt(i == 0 ? u : v)).ToArray());
            })
            .OrderBy(p => p.Values[0]).ThenBy(p => p.Values.Length > 1 ? p.Values[1] : 0).ToList();
    }

    /// <summary>Applies the `--where` filters, then spreads at most <paramref name="maxPoints"/> evenly.</summary>
    public static List<GridPoint> Select(IReadOnlyList<GridPoint> ordered, IReadOnlyList<Axis> axes,
        IEnumerable<string> where, int maxPoints)
    {
        if (maxPoints < 1 || maxPoints > MostPoints)
            throw new SpecException($"--max-points: must be 1 to {MostPoints}, got {maxPoints}");
        IReadOnlyList<GridPoint> kept = ordered;
        foreach (var condition in where) kept = Filter(kept, axes, condition);
        if (kept.Count == 0) throw new SpecException("--where: no grid point matches all conditions");
        return Spread(kept.Count, maxPoints).Select(i => kept[i]).ToList();
    }

    /// <summary>Indices of <paramref name="take"/> of <paramref name="count"/> items, spread evenly, ends
    /// included.</summary>
    public static IReadOnlyList<int> Spread(int count, int take)
    {
        if (count <= take) return Enumerable.Range(0, count).ToArray();
        if (take == 1) return [0];
        return Enumerable.Range(0, take)
            .Select(k => (int)Math.Round(k * (count - 1) / (double)(take - 1), MidpointRounding.AwayFromZero))
            .ToArray();
    }

    /// <summary>The legend entry of a point: its axis values, in the form `--where` accepts ("tau=0.1, delta=-1").
    /// </summary>
    public static string Label(IReadOnlyList<Axis> axes, GridPoint point) => string.Join(", ",
        axes.Select((a, i) => $"{a.Name}={point.Values[i].ToString("G3", CultureInfo.InvariantCulture)}"));

    /// <summary>Keeps the points whose AXIS value is the grid value nearest VALUE (log distance on log axes).
    /// </summary>
    private static List<GridPoint> Filter(IReadOnlyList<GridPoint> points, IReadOnlyList<Axis> axes, string condition)
    {
        var (axis, index, value) = Parse(condition, axes);
        if (points.Count == 0) return [];
        double Distance(double x) => axis.Log ? Math.Abs(Math.Log(x / value)) : Math.Abs(x - value);
        double nearest = points.Select(p => p.Values[index]).MinBy(Distance);
        double tolerance = 1e-9 * Math.Max(1, Math.Abs(nearest));
        return points.Where(p => Math.Abs(p.Values[index] - nearest) <= tolerance).ToList();
    }

    private static (Axis Axis, int Index, double Value) Parse(string condition, IReadOnlyList<Axis> axes)
    {
        int eq = condition.IndexOf('=');
        if (eq <= 0) throw new SpecException($"--where: expected AXIS=VALUE, got '{condition}'");
        string name = condition[..eq].Trim();
        int index = axes.Select(a => a.Name).ToList().IndexOf(name);
        string names = string.Join(", ", axes.Select(a => a.Name));
        if (index < 0) throw new SpecException($"--where: unknown axis '{name}' (axes: {names})");
        string text = condition[(eq + 1)..].Trim();
        bool log = axes[index].Log;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
            || !double.IsFinite(v) || (log && v <= 0))
            throw new SpecException($"--where: '{condition}' needs a {(log ? "positive " : "")}number after '='");
        return (axes[index], index, v);
    }
}
