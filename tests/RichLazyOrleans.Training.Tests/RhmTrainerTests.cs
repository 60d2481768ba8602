using System.Text.Json;
using RichLazyOrleans.Training;
using Xunit.Abstractions;

namespace RichLazyOrleans.Training.Tests;

/// <summary>The `rhm` run kind: an MLP on the random hierarchy model, one row per training size.</summary>
public class RhmTrainerTests(ITestOutputHelper output)
{
    // v = 4, s = 2, L = 2, m = 2: P_max = 4·2³ = 32 distinct inputs of length 4.
    internal static RhmConfig Tiny(long steps = 100, int[]? sizes = null, double alpha = 1, int batch = 0,
        string? dir = null, long every = 0) => new()
    {
        V = 4, S = 2, L = 2, M = 2, Classes = 4,
        Seed = 3,
        InitSeed = 3,
        Alpha = alpha,
        Width = 32,
        HiddenLayers = 2,
        Lr = 1e-2,
        Steps = steps,
        BatchSize = batch,
        TrainSizes = sizes ?? [4, 8, 16],
        TestSize = 16,
        TargetAccuracy = 0.5,
        Float32 = false,
        CheckpointDir = dir,
        CheckpointEvery = every,
    };

    private static List<RhmRow> Run(RhmConfig c, CancellationToken ct = default, Action<RhmRow>? rowReady = null)
    {
        using var t = new RhmTrainer(c) { RowReady = rowReady };
        return t.Run(ct).ToList();
    }

    private static string Json(IEnumerable<RhmRow> rows) =>
        JsonSerializer.Serialize(rows.Select(r => r with { ResumedFromStep = 0 }), TrainingJson.Rows);

    [Fact]
    public void One_row_per_size_with_index_steps_and_a_consistent_sample_complexity()
    {
        var rows = Run(Tiny());
        Assert.Equal([0L, 1L, 2L], rows.Select(r => r.Step));
        Assert.Equal([4L, 8L, 16L], rows.Select(r => r.TrainSize));
        foreach (var r in rows)
        {
            output.WriteLine(r.ToString());
            Assert.Equal("ok", r.Status);
            Assert.InRange(r.TrainAccuracy, 0, 1);
            Assert.InRange(r.TestAccuracy, 0, 1);
            Assert.True(r.TrainLoss >= 0 && r.TestLoss >= 0);
        }
        // sample_complexity is SampleComplexity.Find over the sizes done so far.
        for (int k = 0; k < rows.Count; k++)
        {
            var sc = SampleComplexity.Find(
                rows.Take(k + 1).Select(r => ((double)r.TrainSize, r.TestAccuracy)).ToList(), 0.5);
            Assert.Equal(sc.Smallest, rows[k].SampleComplexity);
            Assert.Equal(sc.Interpolated, rows[k].SampleComplexityInterpolated);
        }
        // Deterministic: the same config gives the same rows.
        Assert.Equal(Json(rows), Json(Run(Tiny())));
    }

    [Fact]
    public void Training_accuracy_rises_with_steps_on_a_tiny_grammar()
    {
        var none = Run(Tiny(steps: 0, sizes: [16]))[0];
        var some = Run(Tiny(steps: 200, sizes: [16]))[0];
        output.WriteLine($"train accuracy at 0 steps {none.TrainAccuracy}, at 200 steps {some.TrainAccuracy}; " +
            $"loss {none.TrainLoss} -> {some.TrainLoss}");
        Assert.True(some.TrainAccuracy > none.TrainAccuracy);
        Assert.Equal(1.0, some.TrainAccuracy);
        Assert.True(some.TrainLoss < none.TrainLoss);
    }

    [Fact]
    public void Alpha_divides_only_the_first_layers_init()
    {
        var c1 = Tiny();
        var c4 = Tiny(alpha: 4);
        int input = 4 * 4;   // s^L · v
        var a = RhmTrainer.Init(c1, input);
        var b = RhmTrainer.Init(c4, input);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var name in a.Keys)
        {
            var scale = name == "W0" ? 4.0 : 1.0;
            Assert.Equal(a[name].Length, b[name].Length);
            for (int i = 0; i < a[name].Length; i++) Assert.Equal(a[name][i], b[name][i] * scale, 1e-15);
        }
        Assert.Contains(a["W0"], x => x != 0);
        Assert.All(a["b0"], x => Assert.Equal(0.0, x));
        // N(0, 1/fan_in): the sample variance of W1 (32×32) is near 1/32.
        double var1 = a["W1"].Select(x => x * x).Average();
        Assert.InRange(var1 * 32, 0.8, 1.2);
    }

    [Fact]
    public void Resume_after_cancellation_and_after_each_size_is_bit_identical()
    {
        var baseline = Json(Run(Tiny(steps: 60, batch: 4)));
        string dir = Directory.CreateTempSubdirectory("richlazy-rhm-").FullName;
        try
        {
            var cp = Tiny(steps: 60, batch: 4, dir: dir, every: 25);
            // Cancel as soon as the first size's row exists: the run stops early in the second size.
            using (var cts = new CancellationTokenSource())
            {
                Assert.Throws<OperationCanceledException>(() =>
                    Run(cp, cts.Token, r => { if (r.Step == 0) cts.Cancel(); }));
            }
            var store = new StateStore(dir);
            Assert.Equal(61, store.Files().First().Step);   // size 1, no step done: the state after size 0
            var resumed = Run(cp);
            Assert.Equal(61, resumed[^1].ResumedFromStep);
            Assert.Equal(baseline, Json(resumed));

            // Cancel in the middle of a size (after 30 steps of size 1): the state is saved at that exact step.
            string dir2 = Directory.CreateTempSubdirectory("richlazy-rhm-").FullName;
            var cp2 = cp with { CheckpointDir = dir2 };
            using (var cts = new CancellationTokenSource())
            using (var t = new RhmTrainer(cp2)
                { ProgressSeconds = 0, Progress = (k, step, _) => { if (k == 1 && step == 30) cts.Cancel(); } })
            {
                Assert.Throws<OperationCanceledException>(() => t.Run(cts.Token));
            }
            long savedAt = new StateStore(dir2).Files().First().Step;
            Assert.Equal(61 + 30, savedAt);
            var resumed2 = Run(cp2);
            Assert.Equal(savedAt, resumed2[^1].ResumedFromStep);
            Assert.Equal(baseline, Json(resumed2));
            Directory.Delete(dir2, true);

            // A finished run's final state gives the same rows without training.
            Assert.Equal(baseline, Json(Run(cp)));
        }
        finally { Directory.Delete(dir, true); }
    }
}
