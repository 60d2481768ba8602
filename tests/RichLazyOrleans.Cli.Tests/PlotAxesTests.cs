using RichLazyOrleans.Engine;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// Issue 16: the plot helpers a reader sees: log ticks, the log-step rule of `plot --curves`, which grid
/// points it draws and how the legend names them. Expected values are written out by hand.
/// </summary>
public class PlotAxesTests
{
    private static string[] Labels(double lo, double hi) =>
        LogAxis.Ticks(lo, hi).Where(t => t.Major).Select(t => t.Label!).ToArray();

    [Fact]
    public void A_short_log_axis_labels_1_2_5_in_each_decade()
    {
        Assert.Equal(["0.1", "0.2", "0.5", "1", "2"], Labels(0.1, 2));
        Assert.Equal(["0.002", "0.005", "0.01", "0.02", "0.05", "0.1"], Labels(0.001 * 1.5, 0.1));
        Assert.Equal(["20", "50", "100", "200", "500", "1000"], Labels(10.5, 1000));
    }

    [Fact]
    public void A_log_axis_of_three_decades_or_more_labels_decades_with_unlabelled_minor_ticks_between()
    {
        Assert.Equal(["0.01", "0.1", "1", "10"], Labels(0.01, 10));
        var ticks = LogAxis.Ticks(0.01, 10);
        // 1..9 in each of the three decades, plus 10: 28 ticks, the 24 between the decades unlabelled.
        Assert.Equal(28, ticks.Count);
        Assert.Equal([0.02, 0.03, 0.04], ticks.Where(t => !t.Major).Take(3).Select(t => t.Value));
        Assert.Equal(["1", "10", "100", "1000", "10000"], Labels(1, 10000));
    }

    [Fact]
    public void Very_wide_and_very_short_log_axes_stay_readable()
    {
        // 24 decades: every third decade labelled, no minor ticks.
        Assert.Equal(["1e-12", "1e-9", "1e-6", "0.001", "1", "1000", "1e6", "1e9", "1e12"], Labels(1e-12, 1e12));
        Assert.All(LogAxis.Ticks(1e-12, 1e12), t => Assert.True(t.Major));
        // Less than a 1-2-5 step: every mantissa, and the ends when even that gives fewer than two labels.
        Assert.Equal(["0.3", "0.4", "0.5"], Labels(0.3, 0.5));
        Assert.Equal(["0.31", "0.39"], Labels(0.31, 0.39));
    }

    [Theory]
    [InlineData(0.5, "0.5")]
    [InlineData(10000, "10000")]
    [InlineData(0.0002, "0.0002")]
    [InlineData(2e-5, "2e-5")]
    [InlineData(5e6, "5e6")]
    [InlineData(0.30000000000000004, "0.3")]
    public void Labels_are_plain_numbers_without_exponent_clutter(double value, string label) =>
        Assert.Equal(label, LogAxis.Format(value));

    [Fact]
    public void The_generator_places_ticks_at_log10_and_clamps_the_ends_onto_the_axis_limits()
    {
        var g = LogAxis.Generator(0.1, 2);
        // ScottPlot keeps the ticks whose position lies in the visible range; the whole range keeps all.
        Regenerate(g, Math.Log10(0.1), Math.Log10(2));
        var major = g.Ticks.Where(t => t.IsMajor).ToArray();
        Assert.Equal(["0.1", "0.2", "0.5", "1", "2"], major.Select(t => t.Label));
        Assert.Equal(Math.Log10(0.5), major[2].Position, 12);
        Assert.Equal(Math.Log10(0.1), major[0].Position);
        Assert.Equal(Math.Log10(2), major[^1].Position);
        // The curves' axis draws x at log10(x + 1).
        var steps = LogAxis.Generator(10, 10000, x => Math.Log10(x + 1));
        Regenerate(steps, 0, 5);
        Assert.Equal(Math.Log10(101), steps.Ticks.Single(t => t.Label == "100").Position, 12);
    }

    private static void Regenerate(ScottPlot.TickGenerators.NumericManual g, double min, double max)
    {
        // A manual generator only filters its ticks to the range: it never measures text, so no paint is needed.
        g.Regenerate(new ScottPlot.CoordinateRange(min, max), ScottPlot.Edge.Left, new ScottPlot.PixelLength(500),
            null!, new ScottPlot.LabelStyle());
    }

    [Theory]
    [InlineData(new double[] { 0, 10, 100, 1000, 10000 }, true)]
    [InlineData(new double[] { 0, 100, 1000, 20000 }, true)]
    [InlineData(new double[] { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000 }, true)]
    [InlineData(new double[] { 0, 10, 20000 }, true)]
    [InlineData(new double[] { 0, 1000, 2000, 3000, 4000, 5000, 20000 }, false)]   // under two decades
    [InlineData(new double[] { 0, 1, 5000, 10000, 15000, 20000 }, false)]         // one early point, else even
    [InlineData(new double[] { 0, 5 }, false)]
    [InlineData(new double[] { 0 }, false)]
    public void Steps_are_log_spaced_when_a_log_axis_spreads_them_more_evenly(double[] steps, bool log) =>
        Assert.Equal(log, LogSpacing.Prefers(steps));

    [Fact]
    public void Evenly_spaced_steps_over_many_decades_stay_linear()
    {
        Assert.False(LogSpacing.Prefers(Enumerable.Range(1, 200).Select(i => 100.0 * i)));
        Assert.True(LogSpacing.Prefers(Enumerable.Range(0, 9).Select(i => Math.Pow(10, i / 2.0))));
    }

    [Fact]
    public void Spread_picks_evenly_over_the_list_ends_included()
    {
        Assert.Equal([0, 7, 13, 20, 26, 33, 39, 46, 52, 59], CurveSelection.Spread(60, 10));
        Assert.Equal([0, 2, 4], CurveSelection.Spread(5, 3));
        Assert.Equal([0, 1, 2], CurveSelection.Spread(3, 10));
        Assert.Equal([0], CurveSelection.Spread(7, 1));
    }

    // A 3 x 3 grid: tau 0.1, 1, 10 (log), delta -1, 0, 1.
    private static readonly Axis[] Axes = [new("tau", 0.1, 10, true), new("delta", -1, 1, false)];
    private static readonly Lattice Grid = new([3, 3], 0);
    private static List<GridPoint> Points() => CurveSelection.Ordered(
        from i in Enumerable.Range(0, 3) from j in Enumerable.Range(0, 3) select new LatticePoint(2 - i, j),
        Grid, Axes);

    [Fact]
    public void Points_are_ordered_by_axis_values_and_labelled_in_the_form_where_accepts()
    {
        var labels = Points().Select(p => CurveSelection.Label(Axes, p)).ToArray();
        Assert.Equal(["tau=0.1, delta=-1", "tau=0.1, delta=0", "tau=0.1, delta=1", "tau=1, delta=-1"], labels[..4]);
        Assert.Equal("tau=10, delta=1", labels[^1]);
    }

    [Fact]
    public void Where_keeps_the_nearest_grid_value_and_max_points_spreads_the_rest()
    {
        string[] Chosen(string[] where, int max) =>
            CurveSelection.Select(Points(), Axes, where, max).Select(p => CurveSelection.Label(Axes, p)).ToArray();
        // 0.5 is nearer 1 than 0.1 in log distance (0.30 vs 0.70 decades); 0.25 is nearer 0.1 (0.40 vs 0.60).
        Assert.Equal(["tau=1, delta=-1", "tau=1, delta=0", "tau=1, delta=1"], Chosen(["tau=0.5"], 10));
        Assert.Equal(["tau=0.1, delta=0"], Chosen(["tau=0.25", "delta=0.2"], 10));
        Assert.Equal(["tau=0.1, delta=-1", "tau=1, delta=0", "tau=10, delta=1"], Chosen([], 3));
        Assert.Equal(["tau=0.1, delta=1", "tau=10, delta=1"], Chosen(["delta=1"], 2));
    }

    [Theory]
    [InlineData("alpha=1", "unknown axis 'alpha' (axes: tau, delta)")]
    [InlineData("tau", "expected AXIS=VALUE")]
    [InlineData("tau=-1", "positive number")]
    [InlineData("delta=abc", "needs a number")]
    public void A_bad_where_is_one_clear_error(string where, string message)
    {
        var e = Assert.Throws<SpecException>(() => CurveSelection.Select(Points(), Axes, [where], 10));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Max_points_outside_1_to_20_is_refused()
    {
        string Refusal(int max) =>
            Assert.Throws<SpecException>(() => CurveSelection.Select(Points(), Axes, [], max)).Message;
        Assert.Equal("--max-points: must be 1 to 20, got 0", Refusal(0));
        Assert.Equal("--max-points: must be 1 to 20, got 21", Refusal(21));
        Assert.Equal(9, CurveSelection.Select(Points(), Axes, [], 20).Count);   // the upper bound itself is fine
    }
}
