using RichLazyOrleans.Engine;
using System.Text.Json.Nodes;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Theory;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>The `implicit-bias` kind (issue 15, part 2): its row, its keys and its errors.</summary>
public class ImplicitBiasRunTests
{
    private static readonly IRunKind Kind = RunKindRegistry.Get("implicit-bias");

    private const string Data = """
        "x": [[1.0, 0.5, -0.3, 0.2, 0.0], [0.1, 1.2, 0.4, -0.5, 0.7]], "y": [0.8, -0.4]
        """;

    private static JsonObject Run(string json) => Assert.Single(Kind.Run(new Spec(JsonNode.Parse(json)!.AsObject())));

    private static Matrix M(JsonNode node) =>
        Matrix.FromRows(node.AsArray()
            .Select(r => r!.AsArray().Select(v => v!.GetValue<double>()).ToArray()).ToArray());

    private static double Num(JsonObject row, string key) => row[key]!.GetValue<double>();

    [Fact]
    public void Single_neuron_row_meets_the_potential_and_its_distances_are_what_they_say()
    {
        var row = Run($$"""
            { "model": "single-neuron", {{Data}}, "tau": 0.4, "delta": -0.5, "w_dir": [1, 0, 1, 0, -1] }
            """);
        Assert.True(Num(row, "potential_gap") < 1e-6, $"{Num(row, "potential_gap"):E2}");
        Assert.Equal(0, row["sign_flipped"]!.GetValue<int>());
        Assert.True(Num(row, "train_loss") < 1e-20);
        var beta = M(row["beta"]!);
        foreach (var (key, refKey) in new[] { ("l2_distance", "beta_l2"), ("nuclear_distance", "beta_nuclear") })
        {
            var reference = M(row[refKey]!);
            Assert.Equal((beta - reference).FrobeniusNorm() / reference.FrobeniusNorm(), Num(row, key), 12);
        }
        // The minimum-norm interpolant by hand: y ∈ span of X's rows, β = Xᵀ(XXᵀ)⁻¹y, so Xβ = y and β ⊥ null(X).
        var nuclear = M(row["beta_nuclear"]!);
        var x = Matrix.FromRows([[1.0, 0.5, -0.3, 0.2, 0.0], [0.1, 1.2, 0.4, -0.5, 0.7]]);
        var fit = nuclear * x.Transpose();
        Assert.Equal(0.8, fit.Data[0], 12);
        Assert.Equal(-0.4, fit.Data[1], 12);
    }

    [Fact]
    public void Two_layer_row_has_every_output_and_no_potential_at_delta_zero()
    {
        const string twoLayer = """
            "model": "two-layer-linear", "x": [[1.0, 0.5, -0.3], [0.1, 1.2, 0.4]],
            "y": [[0.8, -0.4, 0.1], [0.3, 0.2, -0.5]], "tau": 0.3
            """;
        var row = Run($$"""{ {{twoLayer}}, "delta": 1.5 }""");
        foreach (var key in new[] { "beta", "beta_potential", "beta_l2", "beta_nuclear", "potential_gap",
                     "l2_distance", "nuclear_distance", "nuclear_excess", "null_retention", "train_loss" })
            Assert.True(row[key] is not null, $"missing {key}");
        Assert.False(row.ContainsKey("sign_flipped"));
        Assert.True(Num(row, "nuclear_excess") >= -1e-9);   // no interpolant beats the minimum nuclear norm
        var balanced = Run($$"""{ {{twoLayer}}, "delta": 0 }""");
        Assert.Null(balanced["potential_gap"]);
        Assert.Null(balanced["beta_potential"]);
    }

    [Theory]
    [InlineData("""{ "x": [[1, 0]], "y": [1], "a0": 1, "w0": [1, 0] }""", "model")]
    [InlineData("""{ "model": "deep", "x": [[1, 0]], "y": [1], "a0": 1, "w0": [1, 0] }""", "model")]
    [InlineData("""{ "model": "single-neuron", "a0": 1, "w0": [1, 0] }""", "'x'")]
    [InlineData("""{ "model": "single-neuron", "x": [[1, 0], [0, 1]], "y": [1, 2], "a0": 1, "w0": [1, 0] }""", "n < d")]
    [InlineData("""{ "model": "single-neuron", "x": [[1, 0]], "y": [[1, 2]], "a0": 1, "w0": [1, 0] }""", "one output")]
    [InlineData("""{ "model": "two-layer-linear", "x": [[1, 0]], "y": [1], "tau": 1, "delta": 0, "w1": [[1, 0]] }""",
        "w1")]
    [InlineData("""{ "model": "single-neuron", "x": [[1, 0]], "y": [1], "a0": 1, "w0": [1, 0], "t_end": 0 }""",
        "t_end")]
    [InlineData("""{ "model": "single-neuron", "x": [[1, 0]], "y": [1], "a0": 1, "w0": [1, 0], "times": [1] }""",
        "times")]
    public void Bad_specs_are_refused_with_one_clear_line(string json, string expected)
    {
        var e = Assert.Throws<SpecException>(() => Kind.Validate(new Spec(JsonNode.Parse(json)!.AsObject())));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Richlazy_run_prints_the_row()
    {
        var spec = CliProcess.SpecFile($$"""
            { "model": "single-neuron", {{Data}}, "a0": 0.5, "w0": [0.1, 0, 0, 0.2, 0] }
            """);
        var r = CliProcess.Run("run", "implicit-bias", "--spec", spec);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var row = Assert.Single(JsonNode.Parse(r.Stdout)!.AsArray())!.AsObject();
        Assert.True(row["potential_gap"]!.GetValue<double>() < 1e-6);
    }
}
