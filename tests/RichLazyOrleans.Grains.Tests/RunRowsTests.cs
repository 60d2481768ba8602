using System.Text.Json.Nodes;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Grains;
using Xunit;

namespace RichLazyOrleans.Grains.Tests;

/// <summary>Run rows to the result schema: every numeric value reaches its column, whatever CLR type holds it.</summary>
public class RunRowsTests
{
    [Fact]
    public void Integer_valued_metrics_and_spec_values_made_in_code_reach_their_columns()
    {
        var request = new RunRequest("s", "p0-s0", "grokking", "{}", 0, 0, 0, 0, "/tmp", null, null);
        // As the run kinds make them in process: longs for steps_to_grok and train_size; a sweep's
        // YAML integer (alpha: 4) is a long too. (Parsed JSON holds JsonElements: both must work.)
        var spec = new JsonObject { ["alpha"] = JsonValue.Create(4L) };
        var row = new JsonObject { ["step"] = 100L, ["steps_to_grok"] = JsonValue.Create(1200L), ["train_size"] = JsonValue.Create(64L), ["val_accuracy"] = 0.5, ["status"] = "ok" };
        var parsed = JsonNode.Parse(row.ToJsonString())!.AsObject();
        foreach (var r in new[] { row, parsed })
        {
            var result = Assert.Single(RunRows.ToResultRows(request, spec, [r], 1.0));
            Assert.Equal(1200, result.StepsToGrok);
            Assert.Equal(64, result.TrainSize);
            Assert.Equal(0.5, result.ValAccuracy);
            Assert.Equal(4, result.Alpha);
            Assert.Equal(100, result.Step);
        }
    }
}
