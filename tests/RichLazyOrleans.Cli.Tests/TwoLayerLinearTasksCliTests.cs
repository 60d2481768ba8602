using RichLazyOrleans.Engine;
using System.Text.Json.Nodes;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>`two-layer-linear` with `tasks` and the drawn init (`tau`, `delta`), on the real executable.</summary>
public class TwoLayerLinearTasksCliTests
{
    private static JsonArray Rows(CliProcess.Result r)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        return Assert.IsType<JsonArray>(JsonNode.Parse(r.Stdout));
    }

    private static JsonArray Run(string json) =>
        Rows(CliProcess.Run("run", "two-layer-linear", "--spec", CliProcess.SpecFile(json)));

    private static double D(JsonNode? row, string key) => row![key]!.GetValue<double>();

    private static double[] Beta(JsonNode? row) =>
        row!["beta"]!.AsArray().SelectMany(r => r!.AsArray().Select(v => v!.GetValue<double>())).ToArray();

    // A (2×3), then a related B, then A reversed; a λ-balanced drawn init (h = 2, λ = δ = -0.4).
    private const string Stages = """
        "tasks": [ { "sigma_yx": [[1.5, 0.2, 0], [0.1, 0.8, 0.3]], "duration": 3 },
                   { "sigma_yx": [[1.2, 0.5, 0.1], [0, 0.9, -0.2]], "duration": 2 },
                   { "sigma_yx": [[-1.5, -0.2, 0], [-0.1, -0.8, -0.3]], "duration": 8 } ],
        "tau": 0.4, "delta": -0.4, "init_seed": 3, "times": [0, 1, 3, 4, 5, 7, 13]
        """;

    [Fact]
    public void Exact_task_rows_report_every_task_and_agree_with_the_numerical_flow_across_switches()
    {
        var exact = Run($$"""{ {{Stages}}, "epsilon": 1e-4 }""");
        var numeric = Run($$"""{ {{Stages}}, "epsilon": 1e-4, "solver": "numeric", "rtol": 1e-12, "atol": 1e-18 }""");
        Assert.Equal(7, exact.Count);
        Assert.All(exact, r => Assert.Equal("exact", r!["solver"]!.GetValue<string>()));
        Assert.All(numeric, r => Assert.Equal("numeric", r!["solver"]!.GetValue<string>()));
        // t = 3 and 5 are switches: the stage that just ended.
        Assert.Equal([0, 0, 0, 1, 1, 2, 2], exact.Select(r => r!["task"]!.GetValue<int>()));
        double[][] sigmas = [[1.5, 0.2, 0, 0.1, 0.8, 0.3], [1.2, 0.5, 0.1, 0, 0.9, -0.2],
            [-1.5, -0.2, 0, -0.1, -0.8, -0.3]];
        for (int i = 0; i < exact.Count; i++)
        {
            var (e, n) = (Beta(exact[i]), Beta(numeric[i]));
            double diff = Math.Sqrt(e.Zip(n, (x, y) => (x - y) * (x - y)).Sum()), norm = Math.Sqrt(e.Sum(x => x * x));
            Assert.True(diff <= 1e-8 * norm, $"row {i}: |beta diff| {diff:G3}, |beta| {norm:G3}");
            // Every task's loss is ½‖β − Σ_k‖²; `loss` is the active one's.
            for (int k = 0; k < 3; k++)
                Assert.Equal(0.5 * e.Zip(sigmas[k], (x, s) => (x - s) * (x - s)).Sum(), D(exact[i], $"loss_task_{k}"),
                    1e-12);
            Assert.Equal(D(exact[i], $"loss_task_{exact[i]!["task"]!.GetValue<int>()}"), D(exact[i], "loss"));
            Assert.InRange(D(exact[i], "lambda_drift"), 0, 1e-13);
            Assert.Equal(D(exact[i], "kernel_distance"), D(numeric[i], "kernel_distance"), 1e-8);
        }
        // Forgetting from the end of stage 0 on: loss on task 0 now minus at t = 3.
        Assert.False(exact[1]!.AsObject().ContainsKey("forgetting"));
        Assert.Equal(0, D(exact[2], "forgetting"));
        Assert.Equal(D(exact[^1], "loss_task_0") - D(exact[2], "loss_task_0"), D(exact[^1], "forgetting"), 1e-14);
        Assert.True(D(exact[^1], "forgetting") > 1);   // reversed: task 0 is lost
        double tte = D(exact[0], "time_to_eps");
        Assert.InRange(tte, 0.01, 8);
        Assert.Equal(tte, D(numeric[0], "time_to_eps"), 1e-7 * tte);
    }

    [Fact]
    public void The_scratch_baseline_is_the_last_task_trained_alone_from_the_same_init()
    {
        const string b = """[[-1.5, -0.2, 0], [-0.1, -0.8, -0.3]]""";
        var seq = Run($$"""{ {{Stages}}, "epsilon": 1e-4, "baseline": "scratch" }""");
        // The single-stage kind (no tasks) from the same drawn init, at times since the last stage's start (5).
        var alone = Run($$"""{ "sigma_yx": {{b}}, "tau": 0.4, "delta": -0.4, "init_seed": 3, "times": [0, 2, 8] }""");
        Assert.False(seq[3]!.AsObject().ContainsKey("scratch_loss"));
        for (int j = 0; j < 3; j++) Assert.Equal(D(alone[j], "loss"), D(seq[4 + j], "scratch_loss"), 1e-12);
        Assert.Equal(D(seq[0], "scratch_time_to_eps") / D(seq[0], "time_to_eps"), D(seq[0], "transfer_speedup"),
            1e-12);
    }

    [Fact]
    public void A_single_task_on_correlated_data_is_the_numerical_data_run()
    {
        const string data = """
            "x": [[1, 2, 0.5], [0.3, -1, 2], [0.2, 0.1, 1], [1, 0, 0]], "y": [1.5, -0.7, 0.3, 1]
            """;
        const string init = """ "w1": [[0.1, -0.2, 0.05]], "w2": [[0.3]], "times": [0, 2, 6] """;
        var plain = Run($$"""{ {{data}}, {{init}} }""");
        var tasks = Run($$"""{ "tasks": [ { {{data}}, "duration": 6 } ], {{init}} }""");
        Assert.All(tasks, r => Assert.Equal("numeric", r!["solver"]!.GetValue<string>()));
        for (int i = 0; i < 3; i++)
            Assert.Equal(D(plain[i], "train_loss"), D(tasks[i], "loss_task_0"), 1e-12);
    }

    [Theory]
    [InlineData("""{ "tasks": [ { "sigma_yx": [[1]], "duration": 0 } ], "w1": [[1]], "w2": [[1]], "times": [0] }""",
        "tasks")]
    [InlineData("""{ "tasks": [ { "sigma_yx": [[1]] } ], "w1": [[1]], "w2": [[1]], "times": [0] }""", "duration")]
    [InlineData("""
        { "tasks": [ { "sigma_yx": [[1]], "duration": 1, "lr": 2 } ], "w1": [[1]], "w2": [[1]],
          "times": [0] }
        """, "lr")]
    [InlineData("""
        { "tasks": [ { "sigma_yx": [[1]], "duration": 1 }, { "sigma_yx": [[1, 2]], "duration": 1 } ],
          "w1": [[1]], "w2": [[1]], "times": [0] }
        """, "tasks")]
    [InlineData("""{ "tasks": [ 3 ], "w1": [[1]], "w2": [[1]], "times": [0] }""", "tasks")]
    [InlineData("""{ "tasks": [], "w1": [[1]], "w2": [[1]], "times": [0] }""", "tasks")]
    [InlineData("""{ "tasks": [ { "sigma_yx": [[1]], "duration": 1 } ], "w1": [[1]], "w2": [[1]], "times": [1.5] }""",
        "times")]
    [InlineData("""
        { "sigma_yx": [[1]], "tasks": [ { "sigma_yx": [[1]], "duration": 1 } ], "w1": [[1]], "w2": [[1]],
          "times": [0] }
        """, "sigma_yx")]
    [InlineData("""
        { "tasks": [ { "sigma_yx": [[1]], "duration": 1 } ], "w1": [[1]], "w2": [[1]], "times": [0],
          "baseline": "fresh" }
        """, "baseline")]
    [InlineData("""{ "sigma_yx": [[1]], "w1": [[1]], "w2": [[1]], "times": [0], "epsilon": 0.1 }""", "epsilon")]
    [InlineData("""{ "sigma_yx": [[1, 0]], "tau": 1, "delta": 0, "w1": [[1, 0]], "times": [0] }""", "w1")]
    [InlineData("""{ "sigma_yx": [[1, 0]], "tau": 1, "delta": 0, "alpha": 1, "times": [0] }""", "alpha")]
    [InlineData("""{ "sigma_yx": [[1, 0]], "tau": 1, "times": [0] }""", "delta")]
    [InlineData("""{ "sigma_yx": [[1, 0]], "tau": 1, "delta": 0, "hidden": 2, "times": [0] }""", "hidden")]
    [InlineData("""{ "sigma_yx": [[1, 0]], "tau": -1, "delta": 0, "times": [0] }""", "tau")]
    public void Bad_task_or_init_input_exits_2_with_one_line_naming_the_key(string json, string key)
    {
        var r = CliProcess.Run("run", "two-layer-linear", "--spec", CliProcess.SpecFile(json));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        var line = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains($"'{key}'", line);
    }

    [Fact]
    public void A_drawn_init_is_lambda_balanced_so_auto_takes_the_exact_solution()
    {
        // auto takes the exact path only for an init balanced to 1e-9 (W₂ᵀW₂ − W₁W₁ᵀ = δI by construction).
        var rows = Run("""{ "sigma_yx": [[1, 0, 0], [0, 2, 0]], "tau": 0.5, "delta": 0.3, "times": [0, 1e9] }""");
        Assert.All(rows, r => Assert.Equal("exact", r!["solver"]!.GetValue<string>()));
        Assert.Equal(0, D(rows[^1], "loss"), 1e-20);
        var other = Run("""
            { "sigma_yx": [[1, 0, 0], [0, 2, 0]], "tau": 0.5, "delta": 0.3, "init_seed": 1,
              "times": [0] }
            """);
        Assert.NotEqual(D(rows[0], "loss"), D(other[0], "loss"));   // the seed draws other directions
    }
}
