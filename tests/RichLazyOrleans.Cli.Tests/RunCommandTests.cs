using RichLazyOrleans.Engine;
using System.Text.Json;
using System.Text.Json.Nodes;
using RichLazyOrleans.Theory;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>The `richlazy run` contract of ENGINEERING.md, on the real executable.</summary>
public class RunCommandTests
{
    private static JsonArray Rows(CliProcess.Result r)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        var node = JsonNode.Parse(r.Stdout);   // stdout must be exactly one JSON array
        return Assert.IsType<JsonArray>(node);
    }

    [Fact]
    public void Single_neuron_prints_one_object_per_time_with_the_contract_keys()
    {
        var spec = CliProcess.SpecFile("""{ "beta_star": [1.0, 0.5], "a0": 0.1, "w0": [0.05, -0.2], "eta_a": 1.0,"""
            + """ "eta_w": 2.0, "times": [0, 0.5, 1e9] }""");
        var rows = Rows(CliProcess.Run("run", "single-neuron", "--spec", spec));
        Assert.Equal(3, rows.Count);
        foreach (var key in new[] { "t", "a", "w", "beta", "delta", "kernel_distance" })
            Assert.All(rows, r => Assert.True(r!.AsObject().ContainsKey(key), $"missing {key}"));
        // The numbers are the library's, unchanged by the trip through JSON (round-trip formatting).
        var exact = new SingleNeuronExact([1.0, 0.5], 0.1, [0.05, -0.2], 1.0, 2.0).At(0.5);
        Assert.Equal(exact.A, rows[1]!["a"]!.GetValue<double>());
        Assert.Equal(exact.KernelDistance, rows[1]!["kernel_distance"]!.GetValue<double>());
        Assert.Equal(0.0, rows[0]!["kernel_distance"]!.GetValue<double>());
        // δ = η_w a² − η_a‖w‖² is conserved.
        Assert.Equal(2.0 * 0.01 - (0.0025 + 0.04), rows[2]!["delta"]!.GetValue<double>(), 12);
        var beta = rows[2]!["beta"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        Assert.Equal(1.0, beta[0], 12);
        Assert.Equal(0.5, beta[1], 12);
    }

    [Fact]
    public void Single_neuron_accepts_tau_delta_w_dir()
    {
        var spec = CliProcess.SpecFile(
            """{ "beta_star": [2.0], "tau": 0.5, "delta": -0.3, "w_dir": [-3.0], "times": [0] }""");
        var rows = Rows(CliProcess.Run("run", "single-neuron", "--spec", spec));
        double alpha = Initialisation.Alpha(0.5, -0.3);
        Assert.Equal(0.5 / alpha, rows[0]!["a"]!.GetValue<double>(), 14);
        Assert.Equal(-0.5 * alpha, rows[0]!["w"]![0]!.GetValue<double>(), 14);
        Assert.Equal(-0.3, rows[0]!["delta"]!.GetValue<double>(), 14);
    }

    [Fact]
    public void Two_layer_linear_auto_uses_exact_for_balanced_and_numeric_otherwise_and_they_agree()
    {
        // h = 1 inits are always λ-balanced; compare the exact answer with solver numeric.
        const string common = """ "sigma_yx": [[1.0, 0.2, 0.0], [0.1, 0.5, 0.3]], "w1": [[0.1, 0.0, -0.1]],"""
            + """ "w2": [[0.2], [0.05]], "times": [0, 1, 5, 20] """;
        var auto = Rows(CliProcess.Run("run", "two-layer-linear", "--spec", CliProcess.SpecFile($"{{ {common} }}")));
        var numeric = Rows(CliProcess.Run("run", "two-layer-linear", "--spec",
            CliProcess.SpecFile($$"""{ {{common}}, "solver": "numeric", "rtol": 1e-12, "atol": 1e-18 }""")));
        Assert.Equal(4, auto.Count);
        Assert.All(auto, r => Assert.Equal("exact", r!["solver"]!.GetValue<string>()));
        Assert.All(numeric, r => Assert.Equal("numeric", r!["solver"]!.GetValue<string>()));
        for (int i = 0; i < 4; i++)
        {
            var a = auto[i]!["beta"]!.AsArray()
                .SelectMany(r => r!.AsArray().Select(v => v!.GetValue<double>())).ToArray();
            var n = numeric[i]!["beta"]!.AsArray()
                .SelectMany(r => r!.AsArray().Select(v => v!.GetValue<double>())).ToArray();
            Assert.Equal(6, a.Length);
            double diff = Math.Sqrt(a.Zip(n, (x, y) => (x - y) * (x - y)).Sum()), norm = Math.Sqrt(a.Sum(x => x * x));
            Assert.True(diff <= 1e-8 * norm, $"t index {i}: |diff| {diff:G3}");
            Assert.Equal(auto[i]!["kernel_distance"]!.GetValue<double>(),
                numeric[i]!["kernel_distance"]!.GetValue<double>(), 8);
        }
    }

    [Fact]
    public void Two_layer_linear_exact_refuses_an_unbalanced_init_with_exit_2_and_one_line()
    {
        var spec = CliProcess.SpecFile("""{ "sigma_yx": [[1.0, 0.0], [0.0, 0.5]], "w1": [[0.3, 0.1], [0.0, 0.2]],"""
            + """ "w2": [[0.2, -0.4], [0.1, 0.0]], "times": [1], "solver": "exact" }""");
        var r = CliProcess.Run("run", "two-layer-linear", "--spec", spec);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        var line = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains("not lambda-balanced", line);
        Assert.Contains("Delta", line);

        var autoSpec = CliProcess.SpecFile(File.ReadAllText(spec).Replace("\"exact\"", "\"auto\""));
        var auto = Rows(CliProcess.Run("run", "two-layer-linear", "--spec", autoSpec));
        Assert.Equal("numeric", auto[0]!["solver"]!.GetValue<string>());
    }

    [Fact]
    public void Two_layer_linear_on_whitened_data_is_exact_and_matches_its_sigma_yx()
    {
        // X (4×2) with XᵀX/n = I; Σ_yx = YᵀX/n = [[0.9, 0.3]] by hand from the rows below.
        const double r = 1.4142135623730951;
        string x = $"[[{r:R}, 0], [0, {r:R}], [{r:R}, 0], [0, {r:R}]]";
        const string y = "[1.4, 0.5, 1.145584412271571, 0.3485281374238569]";
        const string init = """ "w1": [[0.3, 0.1]], "w2": [[0.2]], "eta1": 1, "eta2": 1, "times": [0, 1, 1e9] """;
        var data = Rows(CliProcess.Run("run", "two-layer-linear", "--spec",
            CliProcess.SpecFile($$"""{ "x": {{x}}, "y": {{y}}, {{init}}, "solver": "numeric" }""")));
        var sigma = Rows(CliProcess.Run("run", "two-layer-linear", "--spec",
            CliProcess.SpecFile($$"""{ "sigma_yx": [[0.9, 0.3]], {{init}}, "solver": "numeric" }""")));
        // h = 1: every init is λ-balanced, so `auto` on whitened data takes the exact solution.
        var exact = Rows(CliProcess.Run("run", "two-layer-linear", "--spec",
            CliProcess.SpecFile($$"""{ "x": {{x}}, "y": {{y}}, {{init}} }""")));
        Assert.Equal("exact", exact[0]!["solver"]!.GetValue<string>());
        Assert.Equal(3, data.Count);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(sigma[i]!["loss"]!.GetValue<double>(), data[i]!["loss"]!.GetValue<double>(), 1e-9);
            Assert.Equal(exact[i]!["loss"]!.GetValue<double>(), data[i]!["loss"]!.GetValue<double>(), 1e-9);
            Assert.Equal(exact[i]!["train_loss"]!.GetValue<double>(), data[i]!["train_loss"]!.GetValue<double>(), 1e-9);
        }
        // At the end β = Σ_yx, and the train loss is the least-squares residual (1/2n)Σ(y − βx)².
        var beta = data[2]!["beta"]![0]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        Assert.Equal(0.9, beta[0], 1e-8);
        Assert.Equal(0.3, beta[1], 1e-8);
        double residual = 0;
        double[][] xs = [[r, 0], [0, r], [r, 0], [0, r]];
        double[] ys = [1.4, 0.5, 1.145584412271571, 0.3485281374238569];
        for (int i = 0; i < 4; i++) residual += Math.Pow(ys[i] - 0.9 * xs[i][0] - 0.3 * xs[i][1], 2);
        Assert.Equal(residual / 8, data[2]!["train_loss"]!.GetValue<double>(), 1e-9);
    }

    [Fact]
    public void Two_layer_linear_on_underdetermined_correlated_data_interpolates_by_t_1e9()
    {
        // n = 2 < d = 3, correlated inputs: the numerical flow, held at its fixed point for t = 1e9.
        const string spec = """
            { "x": [[1, 2, 0.5], [0.3, -1, 2]], "y": [1.5, -0.7], "w1": [[0.1, -0.2, 0.05], [0.02, 0.1, -0.1]],
              "w2": [[0.3, -0.1]], "times": [0, 10, 1e9] }
            """;
        var rows = Rows(CliProcess.Run("run", "two-layer-linear", "--spec", CliProcess.SpecFile(spec)));
        Assert.Equal("numeric", rows[^1]!["solver"]!.GetValue<string>());
        Assert.True(rows[^1]!["train_loss"]!.GetValue<double>() < 1e-16);
        var beta = rows[^1]!["beta"]![0]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        Assert.Equal(1.5, beta[0] + 2 * beta[1] + 0.5 * beta[2], 1e-8);     // Xβᵀ = Y: an interpolant
        Assert.Equal(-0.7, 0.3 * beta[0] - beta[1] + 2 * beta[2], 1e-8);
    }

    [Fact]
    public void Deep_linear_with_two_layers_prints_the_rows_of_two_layer_linear()
    {
        const string common = """ "sigma_yx": [[1.5, 0.2], [0.1, 0.8]], "times": [0, 1, 10, 100] """;
        const string w1 = "[[0.1, 0.3], [0.2, -0.1], [0.05, 0.1]]", w2 = "[[0.2, 0.1, -0.3], [0.1, 0.4, 0.2]]";
        const string tight = """ "rtol": 1e-12, "atol": 1e-18 """;
        var deep = Rows(CliProcess.Run("run", "deep-linear", "--spec", CliProcess.SpecFile(
            $$"""{ {{common}}, "weights": [{{w1}}, {{w2}}], "etas": [1, 2], {{tight}} }""")));
        var two = Rows(CliProcess.Run("run", "two-layer-linear", "--spec", CliProcess.SpecFile(
            $$"""{ {{common}}, "w1": {{w1}}, "w2": {{w2}}, "eta1": 1, "eta2": 2, "solver": "numeric", {{tight}} }""")));
        Assert.Equal(4, deep.Count);
        for (int i = 0; i < deep.Count; i++)
        {
            Assert.Equal(two[i]!["loss"]!.GetValue<double>(), deep[i]!["loss"]!.GetValue<double>(), 1e-10);
            Assert.Equal(two[i]!["kernel_distance"]!.GetValue<double>(),
                deep[i]!["kernel_distance"]!.GetValue<double>(), 1e-10);
            Assert.InRange(deep[i]!["conservation_drift"]!.GetValue<double>(), 0, 1e-10);
        }
        Assert.True(deep[^1]!["loss"]!.GetValue<double>() < 1e-6);
    }

    [Theory]
    [InlineData("single-neuron", """{ "a0": 1, "w0": [1], "times": [0] }""", "beta_star")]
    [InlineData("single-neuron", """{ "beta_star": [1, 2], "a0": 1, "w0": [1], "times": [0] }""", "w0")]
    [InlineData("single-neuron", """{ "beta_star": [1], "a0": 1, "w0": [1], "times": [-1] }""", "times")]
    [InlineData("single-neuron", """{ "beta_star": [1], "tau": -0.5, "delta": 0, "w_dir": [1], "times": [0] }""",
        "tau")]
    [InlineData("single-neuron", """{ "beta_star": [1], "a0": "NaN", "w0": [1], "times": [0] }""", "a0")]
    [InlineData("single-neuron", """{ "beta_star": [1], "a0": 1, "w0": [1], "times": [0], "eta_A": 2 }""", "eta_A")]
    [InlineData("single-neuron", """{ "beta_star": [1], "a0": 1, "w0": [1], "times": [0], "eta_a": 0 }""", "eta_a")]
    [InlineData("two-layer-linear", """{ "sigma_yx": [[1, 0]], "w1": [[1, 0, 0]], "w2": [[1]], "times": [0] }""", "w1")]
    [InlineData("two-layer-linear", """{ "sigma_yx": [[1, 0], [0]], "w1": [[1, 0]], "w2": [[1]], "times": [0] }""",
        "sigma_yx")]
    [InlineData("two-layer-linear",
        """{ "sigma_yx": [[1, 0]], "w1": [[1, 0]], "w2": [[1]], "times": [0], "solver": "magic" }""", "solver")]
    [InlineData("two-layer-linear", """{ "sigma_yx": [[1, 0]], "w1": [[1, 0]], "w2": [[1, 2]], "times": [0] }""", "w2")]
    [InlineData("synthetic", """{ "tau": 1, "delta": 0, "c0": 0, "c1": 0, "c2": 0, "width": 0 }""", "width")]
    [InlineData("two-layer-linear",
        """{ "sigma_yx": [[1]], "x": [[1]], "y": [1], "w1": [[1]], "w2": [[1]], "times": [0] }""", "sigma_yx")]
    [InlineData("two-layer-linear",
        """{ "x": [[1, 2], [3, 1]], "y": [1, 2], "w1": [[1, 0]], "w2": [[1]], "times": [0], "solver": "exact" }""",
        "x")]
    [InlineData("two-layer-linear",
        """{ "x": [[1, 2], [3, 1]], "y": [1], "w1": [[1, 0]], "w2": [[1]], "times": [0] }""", "y")]
    [InlineData("deep-linear", """{ "sigma_yx": [[1]], "weights": [[[0.5]]], "times": [0] }""", "weights")]
    [InlineData("deep-linear", """{ "sigma_yx": [[1]], "weights": [[[0.5]], [[0.5, 1]]], "times": [0] }""", "weights")]
    [InlineData("deep-linear", """{ "sigma_yx": [[1]], "sizes": [2, 3, 1], "times": [0] }""", "sizes")]
    [InlineData("deep-linear", """{ "sigma_yx": [[1]], "sizes": [1, 3, 1], "etas": [1, 0], "times": [0] }""", "etas")]
    [InlineData("deep-linear", """{ "x": [[1]], "sizes": [1, 3, 1], "times": [0] }""", "y")]
    [InlineData("deep-linear", """{ "sizes": [1, 3, 1], "times": [0] }""", "sigma_yx")]
    [InlineData("deep-linear", """{ "sigma_yx": [[1]], "sizes": [1, 3, 1], "times": [0], "scale": 0 }""", "scale")]
    public void Bad_input_exits_2_with_one_line_naming_the_key(string kind, string json, string key)
    {
        var r = CliProcess.Run("run", kind, "--spec", CliProcess.SpecFile(json));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        var line = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains($"'{key}'", line);
    }

    [Fact]
    public void Unreadable_or_invalid_spec_files_exit_2_naming_the_file()
    {
        var missing = CliProcess.Run("run", "single-neuron", "--spec", "/nonexistent/spec.json");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("/nonexistent/spec.json", missing.Stderr);
        var garbage = CliProcess.SpecFile("{ this is not json");
        var bad = CliProcess.Run("run", "single-neuron", "--spec", garbage);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains(garbage, bad.Stderr);
        Assert.Single(bad.Stderr.Trim().Split('\n'));
        var unknownKind = CliProcess.Run("run", "no-such-kind", "--spec", garbage);
        Assert.Equal(2, unknownKind.ExitCode);
        Assert.Contains("no-such-kind", unknownKind.Stderr);
    }

    [Fact]
    public void Synthetic_gives_the_logistic_phase_field()
    {
        var r = Rows(CliProcess.Run("run", "synthetic", "--spec",
            CliProcess.SpecFile("""{ "tau": 10, "delta": 0.5, "c0": 0.2, "c1": 1.0, "c2": -0.4, "width": 0.1 }""")));
        double z = (1 - 0.2 - 0.5 + 0.4 * 0.25) / 0.1;
        Assert.Equal(1 / (1 + Math.Exp(-z)), r[0]!["value"]!.GetValue<double>(), 15);
        Assert.Equal(0, r[0]!["step"]!.GetValue<long>());
    }
}
