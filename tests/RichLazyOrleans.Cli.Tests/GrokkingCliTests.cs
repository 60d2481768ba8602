using RichLazyOrleans.Engine;
using System.Text.Json.Nodes;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>`richlazy run grokking`: the output contract and bad input (the example sweeps:
/// ExampleSpecsTests).</summary>
public class GrokkingCliTests
{
    private const string Tiny = """ "p": 7, "train_fraction": 0.5, "d_model": 16, "heads": 2, "d_mlp": 32,"""
        + """ "lr": 0.01, "seed": 2 """;

    [Fact]
    public void Prints_the_contract_keys_per_checkpoint()
    {
        var r = CliProcess.Run("run", "grokking", "--spec",
            CliProcess.SpecFile($$"""{ {{Tiny}}, "steps": 200, "checkpoints": [0, 20, 200] }"""));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = JsonNode.Parse(r.Stdout)!.AsArray();
        Assert.Equal([0L, 20L, 200L], rows.Select(x => x!["step"]!.GetValue<long>()));
        foreach (var key in new[]
        {
            "train_loss", "val_loss", "train_accuracy", "val_accuracy", "steps_to_grok", "status", "resumed_from_step",
        })
            Assert.All(rows, x => Assert.True(x!.AsObject().ContainsKey(key), key));
        Assert.True(rows[2]!["train_loss"]!.GetValue<double>() < rows[0]!["train_loss"]!.GetValue<double>());
        Assert.All(rows, x => Assert.Equal("ok", x!["status"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData(""" "alpha": 0 """, "alpha")]
    [InlineData(""" "layers": 3 """, "layers")]
    [InlineData(""" "heads": 3 """, "heads")]
    [InlineData(""" "train_fraction": 1.5 """, "train_fraction")]
    [InlineData(""" "train_fraction": 0.001 """, "train_fraction")]
    [InlineData(""" "device": "tpu" """, "device")]
    [InlineData(""" "dtype": "float16" """, "dtype")]
    [InlineData(""" "checkpoint_every": 10 """, "checkpoint_every")]
    [InlineData(""" "steps": 10, "checkpoints": [0, 20] """, "checkpoints")]
    [InlineData(""" "wieght_decay": 1 """, "wieght_decay")]
    [InlineData(""" "tau": 1 """, "tau")]
    public void Bad_input_exits_2_with_one_line_naming_the_key(string body, string key)
    {
        // The tiny spec with the bad entry replacing (not duplicating) its key.
        var spec = JsonNode.Parse($"{{ {Tiny} }}")!.AsObject();
        foreach (var (k, v) in JsonNode.Parse($"{{ {body} }}")!.AsObject()) spec[k] = v?.DeepClone();
        var r = CliProcess.Run("run", "grokking", "--spec", CliProcess.SpecFile(spec.ToJsonString()));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        var line = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains($"'{key}'", line);
    }

    [Fact]
    public async Task A_train_fraction_sweep_has_its_axis_as_a_column()
    {
        string spec = Path.Combine(Directory.CreateTempSubdirectory("richlazy-grok-axis-").FullName, "s.yaml");
        File.WriteAllText(spec, """
            name: grok-fraction
            kind: grokking
            params: { p: 7, d_model: 16, heads: 2, d_mlp: 32, lr: 0.01, steps: 20, checkpoints: [0, 20] }
            axes:
              train_fraction: { from: 0.3, to: 0.7 }
            grid: { initial: [3] }
            """);
        string dir = Directory.CreateTempSubdirectory("richlazy-grok-axis-out-").FullName;
        var r = CliProcess.Run("sweep", "run", spec, "--out", dir, "--slots", "2");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = await RichLazyOrleans.Results.ResultFiles.ReadAllAsync(dir);
        Assert.Equal(6, rows.Count);   // 3 fractions x 2 checkpoints
        Assert.Equal([0.3, 0.5, 0.7], rows.Select(x => Math.Round(x.Metric("train_fraction")!.Value, 12)).Distinct()
            .Order());
        Assert.All(rows, x => Assert.Equal(x.Metric("train_fraction"),
            System.Text.Json.Nodes.JsonNode.Parse(x.ParamsJson)!["train_fraction"]!.GetValue<double>()));
    }
}
