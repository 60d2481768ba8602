using RichLazyOrleans.Engine;
using System.Text.Json.Nodes;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>`rhm`: spec parsing, bad keys, the output contract through the CLI, integer axes (the example sweeps:
/// ExampleSpecsTests).</summary>
public class RhmCliTests
{
    [Theory]
    [InlineData(""" "alpha": 0 """, "alpha")]
    [InlineData(""" "alpha": -1 """, "alpha")]
    [InlineData(""" "m": 5 """, "m")]
    [InlineData(""" "train_sizes": [4, 40] """, "train_sizes")]
    [InlineData(""" "train_sizes": [2.5] """, "train_sizes")]
    [InlineData(""" "device": "cuda" """, "device")]
    [InlineData(""" "dtype": "float16" """, "dtype")]
    [InlineData(""" "target_accuracy": 1.5 """, "target_accuracy")]
    [InlineData(""" "checkpoint_every": 10 """, "checkpoint_every")]
    [InlineData(""" "widht": 10 """, "widht")]
    [InlineData(""" "depth": 0 """, "depth")]
    [InlineData(""" "learner": "rnn" """, "learner")]
    [InlineData(""" "learner": "cnn", "depth": 2 """, "depth")]
    public void Bad_keys_give_one_line_errors_naming_the_key(string body, string key)
    {
        var spec = JsonNode.Parse("""{ "v": 4, "s": 2, "L": 2, "m": 2, "steps": 10, "train_sizes": [4, 8] }""")!
            .AsObject();
        foreach (var (k, v) in JsonNode.Parse($"{{ {body} }}")!.AsObject()) spec[k] = v?.DeepClone();
        var e = Assert.Throws<SpecException>(() => RunKindRegistry.Get("rhm").Validate(new Spec(spec)));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains($"'{key}'", e.Message);
    }

    [Fact]
    public void Defaults_give_a_geometric_grid_and_a_capped_test_set()
    {
        var c = RhmRun.Parse(new Spec(JsonNode.Parse("""{ "v": 4, "s": 2, "L": 2, "m": 2 }""")!.AsObject()));
        // P_max = 32: grid 8 .. 16, test capped at 32 − 16.
        Assert.Equal(SampleComplexity.GeometricGrid(8, 16, 6).Select(x => (int)x), c.TrainSizes);
        Assert.Equal(16, c.TestSize);
        Assert.Equal(4, c.Classes);
        var d = RhmRun.Parse(new Spec(JsonNode.Parse("""{ "seed": 7 }""")!.AsObject()));
        Assert.Equal((8, 2, 2, 4, 8, 7UL, 7UL, 256, 2),
            (d.V, d.S, d.L, d.M, d.Classes, d.Seed, d.InitSeed, d.Width, d.HiddenLayers));
        // P_max = 8·4³ = 512: grid 16 .. 256.
        Assert.Equal([16, 256], new[] { d.TrainSizes[0], d.TrainSizes[^1] });
        Assert.Equal(6, d.TrainSizes.Length);
        Assert.Equal(256, d.TestSize);
    }

    [Fact]
    public void The_run_kind_prints_the_contract_keys()
    {
        var spec = JsonNode.Parse("""{ "v": 4, "s": 2, "L": 2, "m": 2, "width": 16, "steps": 20,"""
            + """ "train_sizes": [4, 8], "dtype": "float64" }""")!.AsObject();
        var rows = RunKindRegistry.Get("rhm").Run(new Spec(spec));
        Assert.Equal(2, rows.Count);
        foreach (var key in new[]
        {
            "step", "train_size", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "sample_complexity",
            "sample_complexity_interpolated", "status", "resumed_from_step",
        })
            Assert.All(rows, r => Assert.True(r.ContainsKey(key), key));
        Assert.Equal(8, rows[1]["train_size"]!.GetValue<long>());
    }

    [Fact]
    public void Cli_run_prints_one_row_per_training_size()
    {
        var r = CliProcess.Run("run", "rhm", "--spec", CliProcess.SpecFile(
            """{ "v": 4, "s": 2, "L": 2, "m": 2, "width": 16, "steps": 30, "lr": 0.01, "train_sizes": [4, 8, 16],"""
            + """ "target_accuracy": 0.3 }"""));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = JsonNode.Parse(r.Stdout)!.AsArray();
        Assert.Equal([0L, 1L, 2L], rows.Select(x => x!["step"]!.GetValue<long>()));
        Assert.Equal([4L, 8L, 16L], rows.Select(x => x!["train_size"]!.GetValue<long>()));
        Assert.All(rows, x => Assert.Equal("ok", x!["status"]!.GetValue<string>()));
    }

    [Fact]
    public void Learner_defaults_to_the_mlp_and_cnn_selects_the_conv_net()
    {
        var mlp = RhmRun.Parse(
            new Spec(JsonNode.Parse("""{ "v": 4, "s": 2, "L": 2, "m": 2, "depth": 3 }""")!.AsObject()));
        Assert.Equal((RhmLearner.Mlp, 3), (mlp.Learner, mlp.HiddenLayers));
        Assert.DoesNotContain("cnn", mlp.Fingerprint());
        var cnn = RhmRun.Parse(
            new Spec(JsonNode.Parse("""{ "v": 4, "s": 2, "L": 2, "m": 2, "learner": "cnn" }""")!.AsObject()));
        Assert.Equal(RhmLearner.Cnn, cnn.Learner);
        Assert.EndsWith(";cnn", cnn.Fingerprint());
    }

    [Fact]
    public void Cli_run_with_the_cnn_learner_prints_one_row_per_training_size()
    {
        var r = CliProcess.Run("run", "rhm", "--spec", CliProcess.SpecFile(
            """{ "learner": "cnn", "v": 4, "s": 2, "L": 2, "m": 2, "width": 16, "steps": 30, "lr": 0.01,"""
            + """ "train_sizes": [4, 8, 16], "target_accuracy": 0.3 }"""));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = JsonNode.Parse(r.Stdout)!.AsArray();
        Assert.Equal([0L, 1L, 2L], rows.Select(x => x!["step"]!.GetValue<long>()));
        Assert.Equal([4L, 8L, 16L], rows.Select(x => x!["train_size"]!.GetValue<long>()));
        Assert.All(rows, x => Assert.Equal("ok", x!["status"]!.GetValue<string>()));
        Assert.All(rows, x => Assert.InRange(x!["test_accuracy"]!.GetValue<double>(), 0, 1));
    }

    [Fact]
    public void Cli_bad_key_exits_2_with_one_line()
    {
        var r = CliProcess.Run("run", "rhm", "--spec",
            CliProcess.SpecFile("""{ "v": 4, "s": 2, "L": 2, "m": 2, "alpha": 0 }"""));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Contains("'alpha'", Assert.Single(r.Stderr.Trim().Split('\n')));
    }

    [Fact]
    public async Task An_integer_axis_is_rounded_at_interior_grid_points()
    {
        // width from 4 to 12 on 4 points: 4, 6.67, 9.33, 12 on the lattice, run as 4, 7, 9, 12 (a
        // fractional width would fail every interior run with "must be an integer").
        string yaml = """
            name: rhm-width
            kind: rhm
            params: { v: 4, s: 2, L: 2, m: 2, steps: 5, train_sizes: [4, 8] }
            axes:
              width: { from: 4, to: 12 }
            grid: { initial: [4] }
            """;
        string spec = Path.Combine(Path.GetTempPath(), $"richlazy-rhm-width-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(spec, yaml);
        string dir = Directory.CreateTempSubdirectory("richlazy-rhm-width-").FullName;
        var r = CliProcess.Run("sweep", "run", spec, "--out", dir, "--slots", "2");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = await RichLazyOrleans.Results.ResultFiles.ReadAllAsync(dir);
        Assert.Equal(8, rows.Count);   // 4 widths x 2 sizes
        Assert.All(rows, x => Assert.Equal("ok", x.Status));
        // integer-valued metrics reach Parquet
        Assert.Equal([4.0, 8.0], rows.Select(x => x.TrainSize!.Value).Distinct().Order());
        // The width each run trained with, from its saved state's fingerprint
        // ("rhm/1;v;s;L;m;n_c;seed;init_seed;alpha;width;…").
        var widths = Directory.GetDirectories(Path.Combine(dir, "checkpoints"))
            .Select(d => new StateStore(d).Files().First().Path)
            .Select(f => long.Parse(StateStore.TryRead(f, out _)!.Fingerprint.Split(';')[9]))
            .Order();
        Assert.Equal([4L, 7, 9, 12], widths);
        // The axis is a column of the results (it used to be lost: only lattice_i remained).
        Assert.Equal([4.0, 7, 9, 12], rows.Select(x => x.Metric("width")!.Value).Distinct().Order());
        Directory.Delete(dir, true);
    }
}
