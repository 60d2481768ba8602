using RichLazyOrleans.Engine;
using System.Text.Json.Nodes;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Theory;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>`single-neuron` on data `x`, `y` and its numerical path (issue 15, part 1), in process.</summary>
public class SingleNeuronDataTests
{
    private static readonly IRunKind Kind = RunKindRegistry.Get("single-neuron");

    private static IReadOnlyList<JsonObject> Run(string json) => Kind.Run(new Spec(JsonNode.Parse(json)!.AsObject()));

    private static double[] Vec(JsonObject row, string key) =>
        row[key]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();

    private static double Num(JsonObject row, string key) => row[key]!.GetValue<double>();

    private static string Arr(IEnumerable<double> v) => "[" + string.Join(", ", v.Select(x => x.ToString("R"))) + "]";

    /// <summary>The numerical flow (deep engine at L = 2, W₁ = wᵀ, W₂ = [a]) against the closed-form solution, over
    /// δ of both signs, a crossing zero (w₀ against β*), and unequal rates.</summary>
    [Theory]
    [InlineData(0.3, 1.5, 0.0, 1.0, 1.0)]
    [InlineData(0.1, -2.0, 0.0, 1.0, 1.0)]
    [InlineData(1.0, 2.0, 0.0, 0.5, 2.0)]
    [InlineData(0.5, -0.5, 180.0, 1.0, 1.0)]   // w₀ against β*: a passes through zero
    [InlineData(0.05, 0.0, 120.0, 2.0, 0.5)]
    public void Numerical_path_equals_the_exact_solution(double tau, double delta, double angleDeg, double etaA,
        double etaW)
    {
        double angle = angleDeg * Math.PI / 180;
        string common = $$"""
            "beta_star": [1.0, 0.0, 0.5], "tau": {{tau:R}}, "delta": {{delta:R}},
            "w_dir": {{Arr([Math.Cos(angle), Math.Sin(angle), 0.3])}}, "eta_a": {{etaA:R}}, "eta_w": {{etaW:R}},
            "times": [0, 0.5, 3, 20, 1e9]
            """;
        var exact = Run($$"""{ {{common}} }""");
        var numeric = Run($$"""{ {{common}}, "solver": "numeric", "rtol": 1e-12, "atol": 1e-16 }""");
        Assert.All(exact, r => Assert.Equal("exact", r["solver"]!.GetValue<string>()));
        Assert.All(numeric, r => Assert.Equal("numeric", r["solver"]!.GetValue<string>()));
        for (int i = 0; i < exact.Count; i++)
        {
            var (e, n) = (exact[i], numeric[i]);
            Assert.Equal(Num(e, "a"), Num(n, "a"), 1e-8);
            Assert.All(Vec(e, "beta").Zip(Vec(n, "beta")), p => Assert.Equal(p.First, p.Second, 1e-8));
            Assert.Equal(Num(e, "kernel_distance"), Num(n, "kernel_distance"), 1e-8);
            Assert.Equal(Num(e, "loss"), Num(n, "loss"), 1e-8);
            Assert.Equal(Num(e, "delta"), Num(n, "delta"), 1e-9);   // conserved along the numerical flow too
        }
    }

    [Fact]
    public void Whitened_data_gives_the_same_flow_as_its_beta_star()
    {
        // X = [[1, 1], [1, −1]]: XᵀX/n = I, so β* = Xᵀy/n.
        var y = new[] { 0.7, -0.3 };
        double[] betaStar = [(0.7 - 0.3) / 2, (0.7 + 0.3) / 2];
        const string init = """ "a0": 0.2, "w0": [0.1, -0.3], "times": [0, 1, 10, 1e9] """;
        var data = Run($$"""{ "x": [[1, 1], [1, -1]], "y": {{Arr(y)}}, {{init}} }""");
        var star = Run($$"""{ "beta_star": {{Arr(betaStar)}}, {{init}} }""");
        for (int i = 0; i < data.Count; i++)
        {
            Assert.Equal("exact", data[i]["solver"]!.GetValue<string>());
            Assert.Equal(Num(star[i], "loss"), Num(data[i], "loss"), 1e-12);
            Assert.All(Vec(star[i], "beta").Zip(Vec(data[i], "beta")), p => Assert.Equal(p.First, p.Second, 1e-12));
        }
        // train_loss (1/2n)‖Xβ − y‖² by hand at the converged β = β*: y lies in the span of X, so it is 0.
        Assert.True(Num(data[^1], "train_loss") < 1e-20, $"{Num(data[^1], "train_loss")}");
    }

    /// <summary>
    /// n = 2 &lt; d = 4, correlated: by t = 1e9 the flow interpolates (Xβ = y), δ stays put, and w moves only inside
    /// w₀ + row(X), because ẇ = −η_w·a·Xᵀr/n: a truth that does not depend on the integrator.
    /// </summary>
    [Fact]
    public void Underdetermined_data_converges_to_an_interpolant_with_w_in_w0_plus_the_row_space()
    {
        double[][] x = [[1.0, 2.0, 0.5, -1.0], [0.3, -1.0, 2.0, 0.4]];
        double[] y = [1.5, -0.7], w0 = [0.2, -0.1, 0.05, 0.3];
        var rows = Run($$"""
            { "x": [{{Arr(x[0])}}, {{Arr(x[1])}}], "y": {{Arr(y)}}, "a0": 0.4, "w0": {{Arr(w0)}},
              "eta_a": 1.5, "times": [0, 1e9] }
            """);
        var last = rows[^1];
        Assert.Equal("numeric", last["solver"]!.GetValue<string>());
        var beta = Vec(last, "beta");
        for (int i = 0; i < 2; i++) Assert.Equal(y[i], x[i].Zip(beta, (a, b) => a * b).Sum(), 1e-8);
        Assert.True(Num(last, "train_loss") < 1e-16);
        Assert.Equal(Num(rows[0], "delta"), Num(last, "delta"), 1e-9);
        // w − w₀ has no component orthogonal to row(X): project out both rows (Gram-Schmidt) and check the rest is 0.
        var dw = Vec(last, "w").Zip(w0, (a, b) => a - b).ToArray();
        var q1 = Normalise(x[0]);
        var q2 = Normalise(Minus(x[1], q1, Dot(x[1], q1)));
        var rest = Minus(Minus(dw, q1, Dot(dw, q1)), q2, Dot(dw, q2));
        Assert.True(Matrix.Norm2(rest) < 1e-8 * Matrix.Norm2(dw), $"{Matrix.Norm2(rest):E2}");
    }

    private static double Dot(double[] a, double[] b) => a.Zip(b, (p, q) => p * q).Sum();
    private static double[] Minus(double[] a, double[] q, double c) => a.Zip(q, (p, r) => p - c * r).ToArray();
    private static double[] Normalise(double[] a) => a.Select(v => v / Matrix.Norm2(a)).ToArray();

    [Theory]
    [InlineData("""{ "x": [[1, 0]], "y": [[1, 2]], "a0": 1, "w0": [1, 0], "times": [0] }""", "one output")]
    [InlineData("""{ "x": [[1, 2], [2, 1]], "y": [1, 2], "a0": 1, "w0": [1, 0], "times": [0], "solver": "exact" }""",
        "whitened")]
    [InlineData("""{ "beta_star": [1], "x": [[1]], "y": [1], "a0": 1, "w0": [1], "times": [0] }""", "not both")]
    [InlineData("""{ "y": [1], "a0": 1, "w0": [1], "times": [0] }""", "missing key 'x'")]
    [InlineData("""{ "x": [[1, 2]], "y": [1, 2], "a0": 1, "w0": [1, 0], "times": [0] }""", "'y'")]
    public void Bad_data_keys_are_refused_with_one_clear_line(string json, string expected)
    {
        var e = Assert.Throws<SpecException>(() => Kind.Validate(new Spec(JsonNode.Parse(json)!.AsObject())));
        Assert.Contains(expected, e.Message);
    }
}
