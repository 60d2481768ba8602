using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Sweeps.Tests;

public class PhaseEstimateTests
{
    private static Dictionary<LatticePoint, double> Sample(Lattice lattice, IEnumerable<LatticePoint> points,
        Func<double, double, double> f) =>
        points.Distinct().ToDictionary(p => p, p => { var (u, v) = lattice.Fractions(p); return f(u, v); });

    private static IEnumerable<LatticePoint> RandomPoints(Lattice lattice, int n, int seed)
    {
        var r = new Random(seed);
        foreach (var p in lattice.InitialPoints()) yield return p;
        for (int k = 0; k < n; k++)
            yield return new LatticePoint(r.Next(lattice.Extent[0] + 1),
                lattice.Dims == 2 ? r.Next(lattice.Extent[1] + 1) : 0);
    }

    [Fact]
    public void Linear_interpolation_reproduces_a_linear_field_exactly_and_its_level_set_is_the_line()
    {
        var lattice = new Lattice([5, 4], 4);
        double F(double u, double v) => 0.3 + 0.8 * u - 0.5 * v;
        var estimate = new PhaseEstimate(lattice, Sample(lattice, RandomPoints(lattice, 60, 1), F));
        var r = estimate.Raster(50);
        for (int a = 0; a < 50; a++)
            for (int b = 0; b < 50; b++)
                Assert.Equal(F((a + 0.5) / 50, (b + 0.5) / 50), r[a, b], 12);
        var lines = estimate.LevelSet(0.5);
        Assert.Single(lines);
        Assert.All(lines[0], p => Assert.Equal(0.5, F(p.U, p.V), 12));
        // The line 0.8u − 0.5v = 0.2 enters at v = 0 (u = 0.25) and leaves at u = 1 (v = 1.2: outside) → at v = 1
        // (u = 0.875).
        var ends = new[] { lines[0][0], lines[0][^1] }.OrderBy(p => p.U).ToArray();
        Assert.Equal(0.25, ends[0].U, 12);
        Assert.Equal(0.875, ends[1].U, 12);
    }

    [Fact]
    public void A_closed_level_set_comes_out_as_one_closed_polyline()
    {
        var lattice = new Lattice([9, 9], 2);
        double F(double u, double v) => (u - 0.5) * (u - 0.5) + (v - 0.45) * (v - 0.45);
        var estimate = new PhaseEstimate(lattice, Sample(lattice, RandomPoints(lattice, 300, 2), F));
        var lines = estimate.LevelSet(0.05);
        Assert.Single(lines);
        Assert.Equal(lines[0][0], lines[0][^1]);
        // radius √0.05 ≈ 0.224, chords inside
        Assert.All(lines[0], p => Assert.InRange(Math.Sqrt(F(p.U, p.V)), 0.2, 0.25));
    }

    [Fact]
    public void On_one_axis_the_level_set_is_the_crossing_point()
    {
        var lattice = new Lattice([5], 3);
        var values = Sample(lattice, lattice.InitialPoints().Append(new LatticePoint(13, 0)), (u, _) => u);
        var lines = new PhaseEstimate(lattice, values).LevelSet(0.4);
        Assert.Single(lines);
        Assert.Equal(0.4, lines[0][0].U, 12);
    }
}

public class BoundaryFileTests
{
    [Fact]
    public void The_boundary_is_written_in_axis_units()
    {
        var kinds = new Dictionary<string, KindInfo>
        {
            ["synthetic"] = new("synthetic", new Dictionary<string, (double, double)> { ["value"] = (0, 1) },
                new HashSet<string> { "tau", "delta" }),
        };
        var spec = SweepSpec.Parse("name: b\nkind: synthetic\naxes:\n  tau: { from: 0.1, to: 10, scale: log }\n"
            + "  delta: { from: -1, to: 1 }\n"
            + "grid: { initial: [3, 3] }\nrefine: { metric: value, threshold: 0.5, max_depth: 2, budget: 9 }\n", kinds);
        var lattice = Lattice.For(spec);
        // value = u: the boundary is u = 0.5, i.e. tau = 1 for every delta.
        var values = lattice.InitialPoints().ToDictionary(p => p, p => lattice.Fractions(p).U);
        var doc = System.Text.Json.Nodes.JsonNode.Parse(
            BoundaryFile.Json(spec, new PhaseEstimate(lattice, values), values.Count))!;
        Assert.Equal("value", (string?)doc["metric"]);
        Assert.Equal("log", (string?)doc["axes"]![0]!["scale"]);
        var line = doc["polylines"]!.AsArray().Single()!.AsArray();
        Assert.All(line, p => Assert.Equal(1.0, (double)p!["tau"]!, 12));
        Assert.Equal([-1.0, 1.0],
            line.Select(p => (double)p!["delta"]!).Order().Where((_, i) => i == 0 || i == line.Count - 1));
    }
}
