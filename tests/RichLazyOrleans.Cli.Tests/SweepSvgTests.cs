using RichLazyOrleans.Engine;
using RichLazyOrleans.Silo;
using RichLazyOrleans.Silo.Pages;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>The live page's server-rendered SVG and who may see the pages.</summary>
public class SweepSvgTests
{
    [Fact]
    public void Log_axis_ticks_are_decades_with_2_and_5_between_them()
    {
        var tau = new Axis("tau", 0.1, 2, Log: true);
        Assert.Equal(["0.1", "0.2", "0.5", "1", "2"], SweepSvg.Ticks(tau).Select(t => t.Label));
        Assert.Equal(0.0, SweepSvg.Ticks(tau)[0].F, 12);
        Assert.Equal(1.0, SweepSvg.Ticks(tau)[^1].F, 12);
        Assert.Equal(["0.001", "0.01", "0.1", "1", "10"],
            SweepSvg.Ticks(new Axis("lr", 1e-3, 10, Log: true)).Select(t => t.Label));   // > 3 decades: decades only
        Assert.Equal(["-1", "-0.5", "0", "0.5", "1"], SweepSvg.Ticks(new Axis("delta", -1, 1, Log: false))
            .Select(t => t.Label));
    }

    [Fact]
    public void Phase_svg_draws_every_point_the_boundary_and_the_known_cells()
    {
        Axis[] axes = [new("tau", 0.1, 10, true), new("delta", -1, 1, false)];
        var raster = new double[4, 4];
        for (int a = 0; a < 4; a++) for (int b = 0; b < 4; b++) raster[a, b] = a == 3 ? double.NaN : a + b;
        PagePoint[] points = [new(0, 0, 0.1, 0, 0), new(1, 1, 0.9, 1, 0), new(0.5, 0.5, null, 2, 1)];
        IReadOnlyList<(double, double)>[] boundary = [[(0.2, 0), (0.4, 1)]];
        string svg = SweepSvg.Phase(axes, raster, points, boundary, "value");
        Assert.Contains("data-points=\"3\"", svg);
        Assert.Equal(3, svg.Split("class=\"point\"").Length - 1);
        Assert.Equal(12, svg.Split("<rect x=").Length - 1 - 1 - 40);   // 12 known cells, the frame, the colour bar
        Assert.Contains("class=\"boundary\"", svg);
        Assert.Contains("pending", svg);                                // a point whose mean is not known yet
        Assert.Contains(SweepSvg.Viridis(1), svg);
    }

    [Fact]
    public void Curves_svg_has_a_legend_entry_per_series_and_a_log_axis_when_asked()
    {
        var series = new (string, IReadOnlyList<(double, double)>)[]
        {
            ("tau=0.1, delta=-1, seed 0", [(1, 1.0), (10, 0.5), (1000, 0.1)]),
            ("tau=1, delta=0, seed 0", [(1, 0.8), (10, 0.7), (1000, 0.6)]),
        };
        string svg = SweepSvg.Curves("train_loss", series, logX: true, "step");
        Assert.Equal(2, svg.Split("class=\"curve\"").Length - 1);
        Assert.Contains("tau=0.1, delta=-1, seed 0", svg);
        Assert.Contains("step (log)", svg);
        Assert.Contains("no rows of", SweepSvg.Curves("x", [], false, "step"));
    }

    [Fact]
    public void Pages_are_served_on_loopback_or_behind_a_token_only()
    {
        Assert.True(SiloHttp.PagesServed(new SiloConfig()));                                    // 127.0.0.1
        Assert.False(SiloHttp.PagesServed(new SiloConfig { HttpBind = "0.0.0.0" }));            // probes only
        Assert.True(SiloHttp.PagesServed(new SiloConfig { HttpBind = "0.0.0.0", HttpToken = new string('x', 16) }));
        Assert.True(SiloHttp.PagesServed(new SiloConfig { HttpBind = "0.0.0.0", InsecureHttp = true }));
    }
}
