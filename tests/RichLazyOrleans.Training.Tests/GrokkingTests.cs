using System.Text.Json;
using RichLazyOrleans.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RichLazyOrleans.Training.Tests;

public class GrokkingTests(ITestOutputHelper output)
{
    internal static GrokkingConfig Tiny(long steps = 300, long[]? checkpoints = null, int layers = 1,
        bool layerNorm = false, double alpha = 1, int batch = 0) => new()
    {
        P = 7,
        TrainFraction = 0.6,
        Seed = 5,
        DataSeed = 5,
        Alpha = alpha,
        Layers = layers,
        DModel = 16,
        Heads = 2,
        DMlp = 32,
        LayerNorm = layerNorm,
        Lr = 1e-2,
        WeightDecay = 1.0,
        BatchSize = batch,
        Steps = steps,
        Checkpoints = checkpoints ?? [0, 10, 100, steps],
        Float32 = false,
    };

    private static string TempDir() => Directory.CreateTempSubdirectory("richlazy-grok-").FullName;

    private static List<GrokkingRow> Run(GrokkingConfig c, CancellationToken ct = default,
        Action<GrokkingRow>? rowReady = null)
    {
        using var t = new GrokkingTrainer(c) { RowReady = rowReady };
        return t.Run(ct).ToList();
    }

    private static string Json(IEnumerable<GrokkingRow> rows) =>
        JsonSerializer.Serialize(rows.Select(r => r with { ResumedFromStep = 0 }), TrainingJson.Rows);

    [Theory]
    [InlineData(7, 0.3)]
    [InlineData(11, 0.5)]
    [InlineData(97, 0.3)]
    public void Data_holds_every_pair_once_split_without_overlap(int p, double fraction)
    {
        var d = ModularData.Create(p, fraction, 42);
        var train = d.TrainA.Zip(d.TrainB).ToList();
        var val = d.ValA.Zip(d.ValB).ToList();
        Assert.Equal((int)Math.Round(fraction * p * p, MidpointRounding.AwayFromZero), train.Count);
        Assert.Equal(p * p, train.Count + val.Count);
        var all = train.Concat(val).ToHashSet();
        Assert.Equal(p * p, all.Count);                                  // each pair exactly once
        Assert.Empty(train.Intersect(val));
        for (int a = 0; a < p; a++) for (int b = 0; b < p; b++) Assert.Contains((a, b), all);
        for (int i = 0; i < train.Count; i++) Assert.Equal((d.TrainA[i] + d.TrainB[i]) % p, d.TrainC[i]);
        for (int i = 0; i < val.Count; i++) Assert.Equal((d.ValA[i] + d.ValB[i]) % p, d.ValC[i]);

        // The split depends on the data seed only: same seed, same split; another seed, another split.
        var again = ModularData.Create(p, fraction, 42);
        Assert.Equal(d.TrainA, again.TrainA);
        Assert.Equal(d.TrainB, again.TrainB);
        var other = ModularData.Create(p, fraction, 43);
        Assert.NotEqual(train, other.TrainA.Zip(other.TrainB).ToList());
    }

    [Fact]
    public void The_trainer_split_follows_the_data_seed_not_the_model_seed()
    {
        using var a = new GrokkingTrainer(Tiny() with { Seed = 1, DataSeed = 9 });
        using var b = new GrokkingTrainer(Tiny() with { Seed = 2, DataSeed = 9 });
        using var c = new GrokkingTrainer(Tiny() with { Seed = 1, DataSeed = 10 });
        Assert.Equal(a.Data.TrainA, b.Data.TrainA);
        Assert.Equal(a.Data.TrainB, b.Data.TrainB);
        Assert.NotEqual(a.Data.TrainA.Zip(a.Data.TrainB), c.Data.TrainA.Zip(c.Data.TrainB));
    }

    [Fact]
    public void AdamW_step_matches_the_hand_computed_update()
    {
        TorchRuntime.EnsureInitialised();
        using var theta = torch.tensor(new double[] { 1.0, -2.0 }, dtype: ScalarType.Float64);
        using var adam = new AdamW([theta], lr: 0.1, beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.5);
        double[] g1 = [0.5, 0.1], g2 = [-0.3, 0.2];
        using (var g = torch.tensor(g1, dtype: ScalarType.Float64)) adam.Step([g]);
        // Step 1: m̂ = g, v̂ = g², so θ₁ = θ₀(1 − lr·wd) − lr·g/(|g| + ε).
        Assert.Equal(1.0 * 0.95 - 0.1 * 0.5 / (0.5 + 1e-8), theta.data<double>()[0], 15);
        Assert.Equal(0.850000002, theta.data<double>()[0], 9);
        Assert.Equal(-2.0 * 0.95 - 0.1 * 0.1 / (0.1 + 1e-8), theta.data<double>()[1], 15);
        using (var g = torch.tensor(g2, dtype: ScalarType.Float64)) adam.Step([g]);
        // Step 2 written from the paper's algorithm in scalars.
        for (int i = 0; i < 2; i++)
        {
            double th = new[] { 1.0, -2.0 }[i], m = 0, v = 0;
            foreach (var (g, t) in new[] { (g1[i], 1), (g2[i], 2) })
            {
                th -= 0.1 * 0.5 * th;
                m = 0.9 * m + 0.1 * g;
                v = 0.98 * v + 0.02 * g * g;
                double mHat = m / (1 - Math.Pow(0.9, t)), vHat = v / (1 - Math.Pow(0.98, t));
                th -= 0.1 * mHat / (Math.Sqrt(vHat) + 1e-8);
            }
            Assert.True(Math.Abs(th - theta.data<double>()[i]) <= 1e-14,
                $"entry {i}: {theta.data<double>()[i]:R} vs hand {th:R}");
        }
        Assert.Equal(2, adam.StepCount);
    }

    /// <summary>Random values for every parameter (biases and LayerNorm too, so none is trivially 0 or 1).</summary>
    private static Dictionary<string, double[]> RandomParameters(GrokkingConfig c, ulong seed)
    {
        var rng = new Rng(seed, 77);
        return GrokkingModel.Shapes(c).ToDictionary(s => s.Name, s =>
            Enumerable.Range(0, (int)s.Shape.Aggregate(1L, (a, b) => a * b)).Select(_ => 0.5 * rng.NextGaussian())
                .ToArray());
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    public void Forward_matches_a_plain_loop_transformer_to_1e_10(int layers, bool layerNorm)
    {
        var c = Tiny(layers: layers, layerNorm: layerNorm) with { P = 5, DModel = 8, Heads = 2, DMlp = 12 };
        TorchRuntime.EnsureInitialised();
        using var model = new GrokkingModel(c, torch.CPU);
        var w = RandomParameters(c, 3);
        model.Load(w);
        var pairs = Enumerable.Range(0, c.P * c.P).Select(k => (A: k / c.P, B: k % c.P)).ToArray();
        using var scope = torch.NewDisposeScope();
        var logits = model.Forward(model.OneHot(pairs.Select(x => x.A).ToArray(), pairs.Select(x => x.B).ToArray()))
            .detach().data<double>().ToArray();
        double worst = 0, scale = 0;
        for (int i = 0; i < pairs.Length; i++)
        {
            var r = GrokkingReference.Logits(c, w, pairs[i].A, pairs[i].B);
            for (int j = 0; j < c.P; j++)
            {
                worst = Math.Max(worst, Math.Abs(r[j] - logits[i * c.P + j]));
                scale = Math.Max(scale, Math.Abs(r[j]));
            }
        }
        output.WriteLine($"layers={layers} ln={layerNorm}: max |logit| {scale:G3}, max difference {worst:G3}");
        Assert.True(scale > 0.1, "logits should not be trivially small");
        Assert.True(worst <= 1e-10 * scale, $"max difference {worst:G3} at logit scale {scale:G3}");
    }

    [Fact]
    public void Autograd_gradient_matches_central_differences_of_the_plain_loop_loss()
    {
        var c = Tiny(layers: 2, layerNorm: true) with { P = 5, DModel = 8, Heads = 2, DMlp = 12 };
        TorchRuntime.EnsureInitialised();
        using var model = new GrokkingModel(c, torch.CPU);
        var w = RandomParameters(c, 4);
        model.Load(w);
        var data = ModularData.Create(c.P, 0.6, 1);
        double Loss(Dictionary<string, double[]> p)
        {
            double sum = 0;
            for (int i = 0; i < data.TrainA.Length; i++)
            {
                var z = GrokkingReference.Logits(c, p, data.TrainA[i], data.TrainB[i]);
                double max = z.Max(), lse = max + Math.Log(z.Sum(v => Math.Exp(v - max)));
                sum += lse - z[data.TrainC[i]];
            }
            return sum / data.TrainA.Length;
        }
        using var scope = torch.NewDisposeScope();
        var y = torch.zeros(data.TrainA.Length, c.P, ScalarType.Float64);
        for (int i = 0; i < data.TrainC.Length; i++) y[i, data.TrainC[i]] = 1;
        var loss = model.Forward(model.OneHot(data.TrainA, data.TrainB)).log_softmax(1).mul(y).sum(1).mean().neg();
        Assert.Equal(Loss(w), loss.item<double>(), 12);
        loss.backward();
        var rng = new Rng(11, 0);
        int checkedEntries = 0;
        for (int k = 0; k < model.Names.Count; k++)
        {
            var grad = model.Parameters[k].grad!.data<double>().ToArray();
            for (int rep = 0; rep < 2; rep++)
            {
                int idx = (int)(rng.NextUInt64() % (ulong)grad.Length);
                var plus = w.ToDictionary(x => x.Key, x => (double[])x.Value.Clone());
                var minus = w.ToDictionary(x => x.Key, x => (double[])x.Value.Clone());
                const double h = 1e-5;
                plus[model.Names[k]][idx] += h;
                minus[model.Names[k]][idx] -= h;
                double fd = (Loss(plus) - Loss(minus)) / (2 * h);
                Assert.True(Math.Abs(fd - grad[idx]) <= 1e-6 * Math.Max(1, Math.Abs(fd)),
                    $"{model.Names[k]}[{idx}]: autograd {grad[idx]:R}, finite difference {fd:R}");
                checkedEntries++;
            }
        }
        Assert.Equal(2 * model.Names.Count, checkedEntries);
    }

    [Fact]
    public void Init_divides_the_embedding_by_alpha_and_nothing_else()
    {
        var c1 = Tiny(alpha: 1);
        var c4 = Tiny(alpha: 4);
        var a = GrokkingModel.Init(c1);
        var b = GrokkingModel.Init(c4);
        Assert.Equal(a["W_E"].Select(v => v / 4), b["W_E"]);
        foreach (var name in a.Keys.Where(n => n != "W_E")) Assert.Equal(a[name], b[name]);
        double rms = Math.Sqrt(a["W_E"].Average(v => v * v));
        Assert.InRange(rms * Math.Sqrt(c1.DModel), 0.8, 1.2);   // std 1/√d_model
    }

    [Fact]
    public void A_tiny_run_reports_rows_and_learns_the_training_set()
    {
        var c = Tiny(steps: 300, checkpoints: [0, 50, 300]) with { EvalEvery = 10 };
        var rows = Run(c);
        foreach (var r in rows) output.WriteLine(r.ToString());
        Assert.Equal([0L, 50L, 300L], rows.Select(r => r.Step));
        Assert.All(rows, r => Assert.Equal("ok", r.Status));
        Assert.True(rows[^1].TrainLoss < 0.1 * rows[0].TrainLoss, "training loss should fall by 10x");
        Assert.Equal(1.0, rows[^1].TrainAccuracy);
        Assert.InRange(rows[0].ValAccuracy, 0, 1);
        // this tiny run memorises: val accuracy stays far below 0.99
        Assert.All(rows, r => Assert.Null(r.StepsToGrok));
    }

    [Fact]
    public void Steps_to_grok_is_the_first_evaluated_step_reaching_the_threshold()
    {
        // A run that reports a row at every step gives the validation accuracy along the whole
        // trajectory (evaluation does not change training). Take as threshold the best accuracy it
        // reaches after step 0, so the threshold is crossed at a known step.
        var c = Tiny(steps: 150, checkpoints: [0, 150]);
        var dense =
            Run(c with { Checkpoints = Enumerable.Range(0, 151).Select(i => (long)i).ToArray(), GrokAccuracy = 1 });
        double threshold = dense.Skip(1).Max(r => r.ValAccuracy);
        Assert.True(threshold > dense[0].ValAccuracy, "the accuracy should rise above its initial value");
        long first = dense.First(r => r.ValAccuracy >= threshold).Step;
        Assert.True(first > 0);
        foreach (long every in new long[] { 1, 3, 7 })
        {
            var rows = Run(c with { EvalEvery = every, GrokAccuracy = threshold });
            Assert.Equal(dense[^1].TrainLoss, rows[^1].TrainLoss);
            long? expected = dense.FirstOrDefault(r => r.Step % every == 0 && r.ValAccuracy >= threshold)?.Step;
            output.WriteLine($"threshold {threshold}: first reached at {first}; " +
                $"eval_every {every}: steps_to_grok {rows[^1].StepsToGrok}");
            Assert.Equal(expected, rows[^1].StepsToGrok);
            Assert.Null(rows[0].StepsToGrok);
        }
        // At checkpoints only: null unless a checkpoint itself reaches it.
        var sparse = Run(c with { GrokAccuracy = threshold });
        Assert.Equal(sparse[^1].ValAccuracy >= threshold ? 150 : null, sparse[^1].StepsToGrok);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    public void Resume_after_cancellation_or_from_any_saved_state_is_bit_identical(int batch)
    {
        var c = Tiny(steps: 200, checkpoints: [0, 10, 60, 150, 200], batch: batch) with { EvalEvery = 5 };
        string baseline = Json(Run(c));
        string dir = TempDir();
        var cp = c with { CheckpointDir = dir, CheckpointEvery = 30 };

        // Cancel right after the row at step 60: the state is saved at step 61, then the run throws.
        using (var cts = new CancellationTokenSource())
        {
            Assert.Throws<OperationCanceledException>(() =>
                Run(cp, cts.Token, r => { if (r.Step == 60) cts.Cancel(); }));
        }
        var store = new StateStore(dir);
        Assert.Equal(61, store.Files().First().Step);
        var resumed = Run(cp);
        Assert.Equal(61, resumed[^1].ResumedFromStep);
        Assert.Equal(baseline, Json(resumed));
        Assert.Equal(200, store.Files().First().Step);

        // A finished run's final state returns the same rows without training again.
        Assert.Equal(baseline, Json(Run(cp)));

        // Remove the final state and corrupt the newest periodic one (180): falls back to 150.
        File.Delete(store.PathFor(200));
        var bytes = File.ReadAllBytes(store.PathFor(180));
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(store.PathFor(180), bytes);
        var fallback = Run(cp);
        Assert.Equal(150, fallback[^1].ResumedFromStep);
        Assert.Equal(baseline, Json(fallback));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp*"));
    }

    [Fact]
    public void Minibatches_differ_from_full_batch_and_a_different_seed_differs()
    {
        var full = Run(Tiny(steps: 30, checkpoints: [30]));
        var mini = Run(Tiny(steps: 30, checkpoints: [30], batch: 8));
        var otherSeed = Run(Tiny(steps: 30, checkpoints: [30]) with { Seed = 6 });
        Assert.NotEqual(full[0].TrainLoss, mini[0].TrainLoss);
        Assert.NotEqual(full[0].TrainLoss, otherSeed[0].TrainLoss);
        Assert.Equal(Json(full), Json(Run(Tiny(steps: 30, checkpoints: [30]))));
    }

    [Fact]
    public void A_diverging_run_stops_with_status_diverged()
    {
        var rows = Run(Tiny(steps: 100, checkpoints: [0, 100]) with { Lr = 5, DivergenceLoss = 20 });
        Assert.Equal("ok", rows[0].Status);
        Assert.Equal("diverged", rows[^1].Status);
        Assert.True(rows[^1].Step < 100 && rows[^1].TrainLoss > 20);
    }

    [Fact]
    public void Cuda_request_without_cuda_is_a_clear_error()
    {
        if (torch.cuda.is_available()) return; // only meaningful on CPU-only machines
        var e = Assert.Throws<SpecException>(() => new GrokkingTrainer(Tiny() with { Device = "cuda:0" }));
        Assert.Equal("device", e.Key);
    }
}

/// <summary>
/// The grokking transformer in plain double loops (an independent implementation of GrokkingModel's maths).
/// </summary>
internal static class GrokkingReference
{
    public static double[] Logits(GrokkingConfig c, IReadOnlyDictionary<string, double[]> w, int a, int b)
    {
        int d = c.DModel, p = c.P, v = c.Vocab, nh = c.Heads, dh = c.HeadDim, m = c.DMlp;
        int[] tokens = [a, b, p];
        var x = new double[3][];
        for (int t = 0; t < 3; t++)
        {
            x[t] = new double[d];
            for (int j = 0; j < d; j++) x[t][j] = w["W_E"][tokens[t] * d + j] + w["W_pos"][t * d + j];
        }
        _ = v;
        double[] Norm(double[] u, string g, string bias)
        {
            if (!c.LayerNorm) return u;
            double mean = u.Average(), var = u.Select(z => (z - mean) * (z - mean)).Average();
            return u.Select((z, j) => (z - mean) / Math.Sqrt(var + 1e-5) * w[g][j] + w[bias][j]).ToArray();
        }
        double[] VecMat(double[] u, double[] mat, int cols)
        {
            var r = new double[cols];
            for (int i = 0; i < u.Length; i++)
                for (int j = 0; j < cols; j++) r[j] += u[i] * mat[i * cols + j];
            return r;
        }
        for (int l = 0; l < c.Layers; l++)
        {
            var h = x.Select(u => Norm(u, $"ln1_g.{l}", $"ln1_b.{l}")).ToArray();
            var q = h.Select(u => VecMat(u, w[$"W_Q.{l}"], d)).ToArray();
            var k = h.Select(u => VecMat(u, w[$"W_K.{l}"], d)).ToArray();
            var val = h.Select(u => VecMat(u, w[$"W_V.{l}"], d)).ToArray();
            var z = new double[3][];
            for (int i = 0; i < 3; i++)
            {
                z[i] = new double[d];
                for (int head = 0; head < nh; head++)
                {
                    var s = new double[i + 1];
                    for (int j = 0; j <= i; j++)
                    {
                        for (int e = 0; e < dh; e++) s[j] += q[i][head * dh + e] * k[j][head * dh + e];
                        s[j] /= Math.Sqrt(dh);
                    }
                    double max = s.Max(), total = s.Sum(u => Math.Exp(u - max));
                    for (int j = 0; j <= i; j++)
                    {
                        double att = Math.Exp(s[j] - max) / total;
                        for (int e = 0; e < dh; e++) z[i][head * dh + e] += att * val[j][head * dh + e];
                    }
                }
            }
            for (int i = 0; i < 3; i++)
            {
                var o = VecMat(z[i], w[$"W_O.{l}"], d);
                for (int j = 0; j < d; j++) x[i][j] += o[j];
                var h2 = Norm(x[i], $"ln2_g.{l}", $"ln2_b.{l}");
                var hid = VecMat(h2, w[$"W_in.{l}"], m);
                for (int j = 0; j < m; j++) hid[j] = Math.Max(0, hid[j] + w[$"b_in.{l}"][j]);
                var outv = VecMat(hid, w[$"W_out.{l}"], d);
                for (int j = 0; j < d; j++) x[i][j] += outv[j] + w[$"b_out.{l}"][j];
            }
        }
        return VecMat(Norm(x[2], "lnf_g", "lnf_b"), w["W_U"], p);
    }
}
