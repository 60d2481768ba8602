using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Sweeps.Tests;

public class SweepSpecTests
{
    internal static readonly Dictionary<string, KindInfo> Kinds = new()
    {
        ["teacher-student"] = new("teacher-student",
            new Dictionary<string, (double, double)>
            {
                ["kernel_distance"] = (0, 1), ["test_loss"] = (0, double.PositiveInfinity),
            },
            new HashSet<string> { "tau", "delta", "alpha", "lr", "base_lr" }),
        ["synthetic"] = new("synthetic", new Dictionary<string, (double, double)> { ["value"] = (0, 1) },
            new HashSet<string> { "tau", "delta" }),
    };

    private const string Example = """
        name: fig1-small
        kind: teacher-student            # any run kind
        params: { n: 200, d: 20, m: 10, steps: 20000, checkpoints: [0, 100, 1000, 20000] }
        axes:                            # one or two axes; each linear or log
          tau:   { from: 0.1, to: 2.0, scale: log }
          delta: { from: -1.0, to: 1.0 }
        seeds: [100, 101]
        grid:   { initial: [5, 5] }      # initial lattice nodes per axis
        refine: { metric: kernel_distance, threshold: 0.5, max_depth: 3, budget: 200 }
        """;

    [Fact]
    public void Parses_the_contract_example()
    {
        var s = SweepSpec.Parse(Example, Kinds);
        Assert.Equal("fig1-small", s.Name);
        Assert.Equal("teacher-student", s.Kind);
        Assert.Equal(200, s.Params["n"]!.GetValue<long>());
        Assert.Equal([0L, 100L, 1000L, 20000L], s.Params["checkpoints"]!.AsArray().Select(x => x!.GetValue<long>()));
        Assert.Equal(new Axis("tau", 0.1, 2.0, true), s.Axes[0]);
        Assert.Equal(new Axis("delta", -1, 1, false), s.Axes[1]);
        Assert.Equal([100L, 101L], s.Seeds);
        Assert.Equal([5, 5], s.Initial);
        Assert.Equal(new RefineSpec("kernel_distance", 0.5, 3, 200), s.Refine);
        Assert.Equal(0.1, s.Axes[0].ValueAt(0), 15);
        Assert.Equal(2.0, s.Axes[0].ValueAt(1), 14);
        Assert.Equal(Math.Sqrt(0.2), s.Axes[0].ValueAt(0.5), 14);
    }

    [Theory]
    [InlineData("kind: teacher-student", "kind: resnet", "kind")]
    [InlineData("  delta: { from: -1.0, to: 1.0 }", "  gamma: { from: -1.0, to: 1.0 }", "axes.gamma")]
    [InlineData("metric: kernel_distance", "metric: accuracy", "refine.metric")]
    [InlineData("seeds: [100, 101]", "seeds: [100, 101]\nextra: 1", "extra")]
    [InlineData("budget: 200", "budget: 20", "refine.budget")]
    [InlineData("threshold: 0.5", "threshold: 1.5", "refine.threshold")]
    [InlineData("scale: log", "scale: cubic", "axes.tau.scale")]
    [InlineData("from: 0.1, to: 2.0", "from: 2.0, to: 0.1", "axes.tau")]
    [InlineData("seeds: [100, 101]", "seeds: [100, x]", "seeds")]
    [InlineData("initial: [5, 5]", "initial: [5]", "grid.initial")]
    [InlineData("max_depth: 3", "max_depth: -1", "refine.max_depth")]
    public void Bad_specs_name_the_key(string from, string to, string key)
    {
        var e = Assert.Throws<SpecException>(() => SweepSpec.Parse(Example.Replace(from, to), Kinds));
        Assert.Contains($"'{key}", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void Garbage_is_refused_with_one_line()
    {
        Assert.Contains("YAML", Assert.Throws<SpecException>(() => SweepSpec.Parse("name: [unclosed", Kinds)).Message);
        Assert.Contains("mapping",
            Assert.Throws<SpecException>(() => SweepSpec.Parse("- just\n- a list", Kinds)).Message);
        Assert.Contains("'name'", Assert.Throws<SpecException>(() => SweepSpec.Parse(
            "kind: synthetic\naxes: { tau: { from: 0.1, to: 1, scale: log } }", Kinds)).Message);
    }

    [Fact]
    public void Refine_is_optional_and_one_axis_is_allowed()
    {
        var s = SweepSpec.Parse("name: a\nkind: synthetic\naxes: { delta: { from: -1, to: 1 } }\n"
            + "grid: { initial: [9] }\nparams: { tau: 1, c0: 0, c1: 1, c2: 0, width: 0.1 }", Kinds);
        Assert.Null(s.Refine);
        Assert.Single(s.Axes);
        Assert.Equal(9, s.InitialPoints);
        Assert.Equal([0L], s.Seeds);
    }
}

/// <summary>Specs that once got through or broke the parser (issue 12): each is refused with one line naming the
/// key.</summary>
public class SweepSpecLimitsTests
{
    private static SpecException Refused(string yaml) =>
        Assert.Throws<SpecException>(() => SweepSpec.Parse(yaml, SweepSpecTests.Kinds));

    private const string Axes = "kind: synthetic\naxes: { tau: { from: 0.1, to: 2, scale: log }, "
        + "delta: { from: -1, to: 1 } }\n";

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData(".hidden")]
    public void Names_of_dots_or_hidden_files_are_refused(string name)
    {
        var e = Refused($"name: '{name}'\n" + Axes);
        Assert.Contains("'name'", e.Message);
    }

    [Fact]
    public void A_name_too_long_for_its_result_file_names_is_refused()
    {
        // 200 characters passed before, and the Parquet file name (name + 32 characters) was then too long to write.
        var e = Refused($"name: {new string('a', 200)}\n" + Axes);
        Assert.Contains("'name'", e.Message);
        Assert.Contains($"{SweepSpec.MaxNameLength}", e.Message);
        SweepSpec.Parse($"name: {new string('a', SweepSpec.MaxNameLength)}\n" + Axes, SweepSpecTests.Kinds);
    }

    [Fact]
    public void A_lattice_or_budget_past_the_point_cap_is_refused_before_anything_exists()
    {
        var e = Refused("name: big\n" + Axes + "grid: { initial: [10000, 10000] }\n");
        Assert.Contains("'grid.initial'", e.Message);
        Assert.Contains("100000000", e.Message);
        var b = Refused("name: big\n" + Axes
            + "refine: { metric: value, threshold: 0.5, max_depth: 12, budget: 5000000 }\n");
        Assert.Contains("'refine.budget'", b.Message);
        var s = Refused("name: big\n" + Axes + "seeds: { min: 2, max: 1000 }\n"
            + "refine: { metric: value, threshold: 0.5, max_depth: 12, budget: 90000 }\n");
        Assert.Contains("'seeds'", s.Message);
    }

    [Fact]
    public void A_billion_laughs_document_is_refused_quickly()
    {
        var yaml = new System.Text.StringBuilder("name: laughs\n" + Axes
            + "params:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (int k = 1; k <= 9; k++)
            yaml.Append($"  a{k}: &a{k} [{string.Join(", ", Enumerable.Repeat($"*a{k - 1}", 10))}]\n");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = Refused(yaml.ToString());
        Assert.Contains("'params", e.Message);
        // 10⁹ leaves: minutes and GBs before
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Malformed_flow_yaml_is_one_line_naming_the_problem()
    {
        var e = Refused("name: x\nkind: synthetic\naxes: { tau: [0.1, 2\nrefine: 3\n");
        Assert.Contains("not valid YAML", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }
}
