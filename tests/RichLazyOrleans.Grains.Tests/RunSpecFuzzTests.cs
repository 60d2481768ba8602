using RichLazyOrleans.Engine;
using System.Text.Json.Nodes;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Grains.Tests;

/// <summary>
/// Issue 12's fuzz test, for run specs (JSON, as `richlazy run` and every run grain take them): a few hundred mutated
/// specs of every kind, seeded, each validates or is refused with a SpecException of one line. Validation only:
/// what a sweep checks before it starts, and what a run checks before it computes.
/// </summary>
public class RunSpecFuzzTests
{
    private static readonly Dictionary<string, string> Valid = new()
    {
        ["synthetic"] = """{ "tau": 0.5, "delta": 0.1, "c0": 0, "c1": 0.5, "c2": 0, "width": 0.05,"""
            + """ "noise": 0.1, "seed": 3 }""",
        ["single-neuron"] = """{ "beta_star": [1.0, 0.5], "tau": 0.1, "delta": -0.5, "w_dir": [-1, 0.2],"""
            + """ "times": [0, 1, 1e9] }""",
        ["two-layer-linear"] = """{ "sigma_yx": [[1, 0], [0, 0.5]], "w1": [[0.1, 0], [0, 0.1]],"""
            + """ "w2": [[0.1, 0], [0, 0.1]], "times": [0, 1] }""",
        ["teacher-student"] = """{ "tau": 0.5, "delta": 0.3, "n": 20, "d": 3, "m": 4, "n_test": 10, "steps": 10 }""",
        ["grokking"] = """{ "p": 7, "train_fraction": 0.5, "d_model": 8, "heads": 2, "d_mlp": 16, "steps": 5 }""",
        ["rhm"] = """{ "v": 4, "s": 2, "L": 2, "m": 2, "width": 8, "steps": 5 }""",
    };

    private static JsonNode? RandomValue(Random r) => r.Next(12) switch
    {
        0 => null,
        1 => JsonValue.Create("text"),
        2 => JsonValue.Create(-1),
        3 => JsonValue.Create(0),
        4 => JsonValue.Create(1e308),
        5 => JsonValue.Create(long.MaxValue),
        6 => JsonValue.Create(true),
        7 => new JsonArray(),
        8 => new JsonArray(JsonValue.Create(1), JsonValue.Create("x")),
        9 => new JsonObject { ["a"] = 1 },
        10 => JsonValue.Create(2.5),
        _ => JsonValue.Create(-1e-300),
    };

    private static JsonObject Mutate(Random r, JsonObject spec)
    {
        var o = (JsonObject)spec.DeepClone();
        for (int e = 0, n = 1 + r.Next(3); e < n; e++)
        {
            var keys = o.Select(kv => kv.Key).ToList();
            switch (r.Next(4))
            {
                case 0 when keys.Count > 0: o.Remove(keys[r.Next(keys.Count)]); break;
                case 1 when keys.Count > 0: o[keys[r.Next(keys.Count)]] = RandomValue(r); break;
                case 2: o[$"k{r.Next(5)}"] = RandomValue(r); break;
                default:
                    if (keys.Count > 0 && o[keys[r.Next(keys.Count)]] is JsonArray a && a.Count > 0)
                        a[r.Next(a.Count)] = RandomValue(r);
                    break;
            }
        }
        return o;
    }

    [Theory]
    [InlineData("synthetic")]
    [InlineData("single-neuron")]
    [InlineData("two-layer-linear")]
    [InlineData("teacher-student")]
    [InlineData("grokking")]
    [InlineData("rhm")]
    public void Mutated_run_specs_validate_or_are_refused_with_one_line(string kindName)
    {
        var kind = RunKindRegistry.Get(kindName);
        var valid = (JsonObject)JsonNode.Parse(Valid[kindName])!;
        kind.Validate(new Spec((JsonObject)valid.DeepClone()));   // the seed spec itself is fine
        var r = new Random(kindName.Length * 7919);
        int refused = 0;
        for (int i = 0; i < 150; i++)
        {
            var spec = Mutate(r, valid);
            try { kind.Validate(new Spec(spec)); }
            catch (SpecException e)
            {
                Assert.False(e.Message.Contains('\n') || e.Message.Length == 0,
                    $"refusal not one line for {spec.ToJsonString()}: {e.Message}");
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{kindName}: {e.GetType().Name} ({e.Message.Split('\n')[0]}) for {spec.ToJsonString()}");
            }
        }
        Assert.True(refused > 30, $"{refused} of 150 refused: the mutations should break most specs");
    }
}
