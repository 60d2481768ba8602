using RichLazyOrleans.Engine;
using System.Text.Json.Nodes;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Silo;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// Every training kind's steps reach the meters a silo exports (an in-memory OpenTelemetry exporter on
/// <see cref="SiloSetup.Meters"/>): grokking and cnn-mnist counted on meters the silo did not export, and rhm counted
/// nothing.
/// </summary>
public class TrainingMeterTests
{
    [Fact]
    public void Steps_of_every_training_kind_reach_the_exported_meter()
    {
        var exported = new List<Metric>();
        using var provider = Sdk.CreateMeterProviderBuilder().AddMeter([.. SiloSetup.Meters])
            .AddInMemoryExporter(exported).Build();
        string digits = Directory.CreateTempSubdirectory("rl-meter-digits-").FullName;
        SyntheticDigits.WriteIdx(digits, 64, 16, seed: 0);
        var specs = new Dictionary<string, string>
        {
            ["teacher-student"] = """{ "tau": 1, "delta": 0, "n": 10, "d": 3, "m": 4, "n_test": 10, "steps": 1024 }""",
            ["grokking"] = """{ "p": 5, "d_model": 8, "heads": 2, "d_mlp": 8, "steps": 1024, "checkpoints": [1024] }""",
            ["rhm"] = """{ "v": 3, "s": 2, "L": 2, "m": 2, "width": 8, "steps": 1024,"""
                + """ "train_sizes": [4], "test_size": 4 }""",
            ["cnn-mnist"] = $$"""{ "data_dir": "{{digits}}", "channels1": 2, "channels2": 2, "batch_size": 4, """
                + """ "steps": 1024, "checkpoints": [1024], "eval_size": 16, "probe_size": 2 }""",
        };
        foreach (var (kind, json) in specs)
            RunKindRegistry.Get(kind).Run(new Spec((JsonObject)JsonNode.Parse(json)!));
        provider.ForceFlush();

        var steps = exported.Where(m => m.Name == "richlazy.training.steps").ToList();
        Assert.NotEmpty(steps);
        var byKind = new Dictionary<string, long>();
        foreach (var metric in steps)
            foreach (ref readonly var point in metric.GetMetricPoints())
                foreach (var tag in point.Tags)
                    if (tag.Key == "kind")
                        byKind[(string)tag.Value!] = byKind.GetValueOrDefault((string)tag.Value!) + point.GetSumLong();
        foreach (var kind in specs.Keys)
            Assert.True(byKind.GetValueOrDefault(kind) >= 1024,
                $"{kind}: {byKind.GetValueOrDefault(kind)} steps exported");
    }
}
