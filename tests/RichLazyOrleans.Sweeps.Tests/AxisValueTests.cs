using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Sweeps.Tests;

/// <summary>Axis values are the ones written (issue 22): `to: 256` is 256, `from: 0.01` is 0.01, integer axes hold
/// integers and refine only to distinct integers.</summary>
public class AxisValueTests
{
    private static readonly Dictionary<string, KindInfo> Kinds = new()
    {
        ["open"] = new("open", new Dictionary<string, (double, double)>(), new HashSet<string>(), Open: true),
    };

    private static SweepSpec Parse(string axes, string extra = "") => SweepSpec.Parse($$"""
        name: axes
        kind: open
        params: { metrics: [loss] }
        axes: {{axes}}
        {{extra}}
        """, Kinds);

    /// <summary>What exp/log gives without snapping: the independent truth that the values need it.</summary>
    private static double Raw(double from, double to, double u) =>
        Math.Exp(Math.Log(from) + u * (Math.Log(to) - Math.Log(from)));

    [Fact]
    public void Log_axis_ends_and_decades_are_exact()
    {
        var a = Parse("{ lr: { from: 0.01, to: 100, scale: log } }", "grid: { initial: [5] }").Axes[0];
        Assert.NotEqual(10.0, Raw(0.01, 100, 0.75));   // 10.000000000000011
        Assert.Equal([0.01, 0.1, 1, 10, 100], Enumerable.Range(0, 5).Select(k => a.ValueAt(k / 4.0)));
    }

    [Fact]
    public void Powers_of_two_on_a_log_axis_are_exact()
    {
        var a = new Axis("width", 4, 256, true);
        Assert.Equal(256.0, a.ValueAt(1));
        Assert.Equal(4.0, a.ValueAt(0));
        Assert.Equal(32.0, a.ValueAt(0.5));
        Assert.NotEqual(16.0, Raw(4, 256, 1 / 3.0));   // 15.999999999999991
        Assert.Equal(16.0, a.ValueAt(1 / 3.0));
        Assert.Equal(64.0, a.ValueAt(2 / 3.0));
    }

    [Fact]
    public void Linear_axis_values_are_the_decimals_written()
    {
        var a = new Axis("delta", 0.1, 0.9, false);
        Assert.NotEqual(0.3, 0.1 + 0.25 * (0.9 - 0.1));   // 0.30000000000000004
        Assert.Equal([0.1, 0.3, 0.5, 0.7, 0.9], Enumerable.Range(0, 5).Select(k => a.ValueAt(k / 4.0)));
        Assert.Equal(0.55, new Axis("x", 0.1, 0.7, false).ValueAt(0.75));   // 0.5499999999999999 computed
    }

    [Fact]
    public void Values_that_are_no_short_decimal_stay_as_computed()
    {
        var a = new Axis("tau", 1, 10, true);
        Assert.Equal(Raw(1, 10, 1 / 3.0), a.ValueAt(1 / 3.0));   // ∛10 is no short decimal: left as computed
        Assert.True(Math.Abs(a.ValueAt(1 / 3.0) - Math.Cbrt(10)) < 4e-15);
    }

    [Fact]
    public void Integer_axis_gives_integers_and_its_ends()
    {
        var s = Parse("{ width: { from: 4, to: 256, scale: log, integer: true } }", "grid: { initial: [5] }");
        Assert.True(s.Axes[0].Integer);
        var values = Enumerable.Range(0, 5).Select(k => s.Axes[0].ValueAt(k / 4.0)).ToArray();
        Assert.Equal([4.0, 11, 32, 91, 256], values);   // 4·64^(k/4): 11.31, 90.51 rounded
    }

    [Fact]
    public void Integer_axis_refines_only_to_distinct_integers()
    {
        // 4..256 on a log scale, 5 nodes: depth 2 gives 17 distinct integers, depth 3 would give 4.56 and 5.19 → 5, 5.
        var ok = Parse("{ width: { from: 4, to: 256, scale: log, integer: true } }",
            "grid: { initial: [5] }\nrefine: { metric: loss, threshold: 0.5, max_depth: 2, budget: 17 }");
        var finest = AxisValues.Finest(ok.Axes[0], 16);
        Assert.Equal(finest.Length, finest.Distinct().Count());
        var e = Assert.Throws<SpecException>(() => Parse(
            "{ width: { from: 4, to: 256, scale: log, integer: true } }",
            "grid: { initial: [5] }\nrefine: { metric: loss, threshold: 0.5, max_depth: 3, budget: 30 }"));
        Assert.Contains("axes.width", e.Message);
        Assert.Contains("at most max_depth 2", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Integer_axis_refuses_fractional_ends_and_bad_flags()
    {
        Assert.Contains("integer axis", Assert.Throws<SpecException>(() =>
            Parse("{ width: { from: 4.5, to: 256, integer: true } }")).Message);
        Assert.Contains("axes.width.integer", Assert.Throws<SpecException>(() =>
            Parse("{ width: { from: 4, to: 256, integer: maybe } }")).Message);
        Assert.Contains("too few integers", Assert.Throws<SpecException>(() =>
            Parse("{ width: { from: 1, to: 3, integer: true } }", "grid: { initial: [5] }")).Message);
    }
}
