using RichLazyOrleans.Engine;
using System.Text.Json.Nodes;
using RichLazyOrleans.Grains;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>Every example sweep in client/RichLazyOrleans.Cli/examples parses, and its run specs validate at both
/// ends of every axis, as the coordinator builds them.</summary>
public class ExampleSpecsTests : IDisposable
{
    private static readonly string Examples = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..",
        "client", "RichLazyOrleans.Cli", "examples");
    // cnn-mnist examples point at data/mnist, which a user provides: stand-in files with the standard names.
    private readonly string _data = Directory.CreateTempSubdirectory("richlazy-examples-").FullName;

    public void Dispose() => Directory.Delete(_data, true);

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Examples, "*.yaml").Order()) data.Add(Path.GetFileName(f));
        return data;
    }

    [Fact]
    public void There_is_an_example_for_each_deep_network_kind()
    {
        var kinds = Directory.GetFiles(Examples, "*.yaml")
            .Select(f => SweepSpec.Parse(File.ReadAllText(f), KindCatalog.Kinds).Kind).ToHashSet();
        Assert.Superset(new HashSet<string> { "cnn-mnist", "rhm", "grokking", "teacher-student", "single-neuron" },
            kinds);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void The_example_parses_and_its_run_specs_validate_at_the_axis_ends(string file)
    {
        var spec = SweepSpec.Parse(File.ReadAllText(Path.Combine(Examples, file)), KindCatalog.Kinds);
        var kind = RunKindRegistry.Get(spec.Kind);
        // Small real IDX files: a sweep checks their headers before it starts.
        RichLazyOrleans.Training.SyntheticDigits.WriteIdx(_data, 20, 5, seed: 0);
        foreach (var run in RunsAtAxisEnds(spec, _data)) kind.Validate(new Spec(run));
    }

    /// <summary>The run specs a sweep produces at both ends of every axis, as the coordinator builds them (data and
    /// checkpoints pointed at <paramref name="data"/>).</summary>
    internal static IEnumerable<JsonObject> RunsAtAxisEnds(SweepSpec spec, string data)
    {
        var kind = RunKindRegistry.Get(spec.Kind);
        foreach (double end in new[] { 0.0, 1.0 })
        {
            var run = (JsonObject)spec.Params.DeepClone();
            foreach (var axis in spec.Axes) run[axis.Name] = SweepRuns.AxisValue(kind, axis, end);
            if (kind.HasSeed) run["seed"] = spec.Seeds[0];
            if (kind.Resumable) run["checkpoint_dir"] = Path.Combine(data, "checkpoints");
            if (run.ContainsKey("data_dir")) run["data_dir"] = data;
            yield return run;
        }
    }
}
