using System.Text.Json;
using RichLazyOrleans.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RichLazyOrleans.Training.Tests;

/// <summary>The `rhm` run kind with the hierarchical CNN learner (learner: cnn).</summary>
public class RhmCnnTests(ITestOutputHelper output)
{
    // v = 3, s = 2, L = 2, m = 2, n_c = 3: P_max = 3·2³ = 24 distinct inputs of length 4.
    private static RhmConfig Small(int width = 5, double alpha = 1) => new()
    {
        V = 3, S = 2, L = 2, M = 2, Classes = 3,
        Seed = 5,
        InitSeed = 5,
        Alpha = alpha,
        Width = width,
        Learner = RhmLearner.Cnn,
        Lr = 1e-2,
        Steps = 0,
        TrainSizes = [16],
        TestSize = 8,
        Float32 = false,
    };

    /// <summary>Random values for every parameter (biases too, so none is trivially 0).</summary>
    private static Dictionary<string, double[]> RandomParameters(RhmConfig c, ulong seed)
    {
        var rng = new Rng(seed, 77);
        return RhmTrainer.Shapes(c, 0).ToDictionary(s => s.Name, s =>
            Enumerable.Range(0, (int)s.Shape.Aggregate(1L, (a, b) => a * b)).Select(_ => 0.7 * rng.NextGaussian())
                .ToArray());
    }

    /// <summary>
    /// The CNN written as plain loops in conv1d notation on the channels-first one-hot input
    /// x[c, p] (<see cref="RhmData.OneHot"/> with channelsFirst): h_{l+1}[o, q] = relu(b_l[o] +
    /// Σ_c Σ_j K_l[o, c, j]·h_l[c, q·s + j]) with K_l[o, c, j] = W_l[j·C_l + c, o]; then
    /// logits[k] = b_out[k] + Σ_o h_L[o, 0]·W_out[o, k].
    /// </summary>
    private static double[] ReferenceLogits(RhmConfig c, Dictionary<string, double[]> w, double[] xChannelsFirst,
        int datum, int length)
    {
        int channels = c.V;
        var h = new double[channels, length];
        for (int ch = 0; ch < channels; ch++)
            for (int p = 0; p < length; p++) h[ch, p] = xChannelsFirst[(datum * channels + ch) * length + p];
        for (int l = 0; l < c.L; l++)
        {
            var W = w[$"W{l}"];
            var b = w[$"b{l}"];
            int outLength = length / c.S;
            var next = new double[c.Width, outLength];
            for (int o = 0; o < c.Width; o++)
                for (int q = 0; q < outLength; q++)
                {
                    double z = b[o];
                    for (int ch = 0; ch < channels; ch++)
                        for (int j = 0; j < c.S; j++) z += W[(j * channels + ch) * c.Width + o] * h[ch, q * c.S + j];
                    next[o, q] = Math.Max(0, z);
                }
            h = next;
            length = outLength;
            channels = c.Width;
        }
        Assert.Equal(1, length);
        var logits = new double[c.Classes];
        for (int k = 0; k < c.Classes; k++)
        {
            double z = w["b_out"][k];
            for (int o = 0; o < c.Width; o++) z += h[o, 0] * w["W_out"][o * c.Classes + k];
            logits[k] = z;
        }
        return logits;
    }

    [Fact]
    public void Forward_matches_a_plain_loop_conv_to_1e_10()
    {
        var c = Small();
        using var t = new RhmTrainer(c);
        var w = RandomParameters(c, 3);
        t.Load(w);
        var (data, _) = t.Rhm.TrainTest(16, 8, 9);
        var x = data.OneHot(channelsFirst: true);
        using var scope = torch.NewDisposeScope();
        var logits = t.Forward(t.Inputs(data)).detach().data<double>().ToArray();
        double worst = 0, scale = 0;
        for (int i = 0; i < data.Count; i++)
        {
            var r = ReferenceLogits(c, w, x, i, data.InputLength);
            for (int k = 0; k < c.Classes; k++)
            {
                worst = Math.Max(worst, Math.Abs(r[k] - logits[i * c.Classes + k]));
                scale = Math.Max(scale, Math.Abs(r[k]));
            }
        }
        output.WriteLine($"max |logit| {scale:G3}, max difference {worst:G3}");
        Assert.True(scale > 0.1, "logits should not be trivially small");
        Assert.True(worst <= 1e-10 * Math.Max(1, scale), $"max difference {worst:G3} at logit scale {scale:G3}");
    }

    [Fact]
    public void Autograd_gradient_matches_central_differences_of_the_plain_loop_loss()
    {
        var c = Small();
        using var t = new RhmTrainer(c);
        var w = RandomParameters(c, 4);
        t.Load(w);
        var (data, _) = t.Rhm.TrainTest(12, 8, 2);
        var x = data.OneHot(channelsFirst: true);
        double Loss(Dictionary<string, double[]> p)
        {
            double sum = 0;
            for (int i = 0; i < data.Count; i++)
            {
                var z = ReferenceLogits(c, p, x, i, data.InputLength);
                double max = z.Max(), lse = max + Math.Log(z.Sum(v => Math.Exp(v - max)));
                sum += lse - z[data.Labels[i]];
            }
            return sum / data.Count;
        }
        using var scope = torch.NewDisposeScope();
        var y = torch.zeros(data.Count, c.Classes, ScalarType.Float64);
        for (int i = 0; i < data.Count; i++) y[i, data.Labels[i]] = 1;
        var loss = t.Forward(t.Inputs(data)).log_softmax(1).mul(y).sum(1).mean().neg();
        Assert.Equal(Loss(w), loss.item<double>(), 12);
        loss.backward();
        var rng = new Rng(11, 0);
        int checkedEntries = 0, nonzero = 0;
        for (int k = 0; k < t.Names.Count; k++)
        {
            var grad = t.Parameters[k].grad!.data<double>().ToArray();
            for (int rep = 0; rep < 2; rep++)
            {
                int idx = (int)(rng.NextUInt64() % (ulong)grad.Length);
                var plus = w.ToDictionary(e => e.Key, e => (double[])e.Value.Clone());
                var minus = w.ToDictionary(e => e.Key, e => (double[])e.Value.Clone());
                const double h = 1e-6;
                plus[t.Names[k]][idx] += h;
                minus[t.Names[k]][idx] -= h;
                double fd = (Loss(plus) - Loss(minus)) / (2 * h);
                output.WriteLine($"{t.Names[k]}[{idx}]: autograd {grad[idx]:G10}, finite difference {fd:G10}");
                Assert.True(Math.Abs(fd - grad[idx]) <= 1e-6 * Math.Max(1, Math.Abs(fd)),
                    $"{t.Names[k]}[{idx}]: autograd {grad[idx]:R}, finite difference {fd:R}");
                checkedEntries++;
                if (grad[idx] != 0) nonzero++;
            }
        }
        Assert.Equal(2 * t.Names.Count, checkedEntries);
        Assert.True(nonzero >= t.Names.Count, $"only {nonzero} of the checked gradient entries are non-zero");
        Assert.Equal(["W0", "b0", "W1", "b1", "W_out", "b_out"], t.Names);
    }

    [Fact]
    public void Shapes_are_conv_filters_and_alpha_divides_only_the_first_conv()
    {
        var c1 = Small(width: 16);
        var c4 = Small(width: 16, alpha: 4);
        var shapes = RhmTrainer.Shapes(c1, 0).ToDictionary(s => s.Name, s => s.Shape);
        Assert.Equal([2L * 3, 16], shapes["W0"]);    // fan_in = s·v
        Assert.Equal([2L * 16, 16], shapes["W1"]);   // fan_in = s·width
        Assert.Equal([16L, 3], shapes["W_out"]);
        var a = RhmTrainer.Init(c1, 12);
        var b = RhmTrainer.Init(c4, 12);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var name in a.Keys)
        {
            double scale = name == "W0" ? 4.0 : 1.0;
            Assert.Equal(a[name].Length, b[name].Length);
            // exact: ÷ 4 is exact in binary
            for (int i = 0; i < a[name].Length; i++) Assert.Equal(a[name][i], b[name][i] * scale);
        }
        Assert.Contains(a["W0"], x => x != 0);
        Assert.All(a["b0"].Concat(a["b1"]).Concat(a["b_out"]), x => Assert.Equal(0.0, x));
        // N(0, 1/fan_in): the sample variance of W1 (32×16) is near 1/32.
        Assert.InRange(a["W1"].Select(x => x * x).Average() * 32, 0.8, 1.2);
    }

    [Fact]
    public void Fingerprint_adds_the_learner_only_for_the_cnn()
    {
        var mlp = RhmTrainerTests.Tiny();
        // The MLP's fingerprint as before the learner existed (saved states stay valid).
        Assert.Equal("rhm/1;4;2;2;2;4;3;3;1;32;2;0.01;0;0.9;0.999;1E-08;100;0;4,8,16;16;0.5;f64;10000000000",
            mlp.Fingerprint());
        Assert.Equal(mlp.Fingerprint() + ";cnn", (mlp with { Learner = RhmLearner.Cnn }).Fingerprint());
    }

    [Fact]
    public void The_cnn_fits_a_tiny_grammar()
    {
        var c = RhmTrainerTests.Tiny(steps: 200, sizes: [16]) with { Learner = RhmLearner.Cnn };
        using var none = new RhmTrainer(c with { Steps = 0 });
        using var some = new RhmTrainer(c);
        var r0 = none.Run()[0];
        var r1 = some.Run()[0];
        output.WriteLine($"train accuracy at 0 steps {r0.TrainAccuracy}, at 200 steps {r1.TrainAccuracy}; " +
            $"loss {r0.TrainLoss} -> {r1.TrainLoss}");
        Assert.Equal(1.0, r1.TrainAccuracy);
        Assert.True(r1.TrainLoss < r0.TrainLoss);
    }

    private static List<RhmRow> Run(RhmConfig c, CancellationToken ct = default, Action<RhmRow>? rowReady = null)
    {
        using var t = new RhmTrainer(c) { RowReady = rowReady };
        return t.Run(ct).ToList();
    }

    private static string Json(IEnumerable<RhmRow> rows) =>
        JsonSerializer.Serialize(rows.Select(r => r with { ResumedFromStep = 0 }), TrainingJson.Rows);

    [Fact]
    public void Resume_after_cancellation_and_after_each_size_is_bit_identical()
    {
        RhmConfig Cnn(string? dir = null, long every = 0) =>
            RhmTrainerTests.Tiny(steps: 60, batch: 4, dir: dir, every: every) with { Learner = RhmLearner.Cnn };
        var baseline = Json(Run(Cnn()));
        string dir = Directory.CreateTempSubdirectory("richlazy-rhm-cnn-").FullName;
        string dir2 = Directory.CreateTempSubdirectory("richlazy-rhm-cnn-").FullName;
        try
        {
            var cp = Cnn(dir, 25);
            // Cancel as soon as the first size's row exists: the run stops early in the second size.
            using (var cts = new CancellationTokenSource())
            {
                Assert.Throws<OperationCanceledException>(() =>
                    Run(cp, cts.Token, r => { if (r.Step == 0) cts.Cancel(); }));
            }
            Assert.Equal(61, new StateStore(dir).Files().First().Step);   // size 1, no step done
            var resumed = Run(cp);
            Assert.Equal(61, resumed[^1].ResumedFromStep);
            Assert.Equal(baseline, Json(resumed));

            // Cancel in the middle of a size (after 30 steps of size 1): saved at that exact step,
            // parameters and AdamW moments included.
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

            // A finished run's final state gives the same rows without training.
            Assert.Equal(baseline, Json(Run(cp)));
            // An MLP run with the same keys does not pick up the CNN's states (different fingerprint).
            var mlp = Run(cp with { Learner = RhmLearner.Mlp });
            Assert.Equal(0, mlp[^1].ResumedFromStep);
            Assert.Equal(Json(Run(RhmTrainerTests.Tiny(steps: 60, batch: 4))), Json(mlp));
        }
        finally
        {
            Directory.Delete(dir, true);
            Directory.Delete(dir2, true);
        }
    }
}
