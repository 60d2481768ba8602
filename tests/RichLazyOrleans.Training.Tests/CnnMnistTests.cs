using System.Text.Json;
using RichLazyOrleans.Training;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RichLazyOrleans.Training.Tests;

/// <summary>
/// The cnn-mnist trainer on tiny MNIST-format files written by the test (never a download): its
/// forward pass against plain loops, its NTK against finite differences, the init's α scaling,
/// learning, and bit-identical resume.
/// </summary>
public class CnnMnistTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("richlazy-cnn-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>
    /// n images of size×size: class c (of `classes`) is a bright 2×2 blob at a class-specific place
    /// plus byte noise, so a CNN can learn it; written as IDX (gzipped when asked).
    /// </summary>
    public static (string Images, string Labels) WriteData(string dir, string prefix, int n, int size, int classes,
        ulong seed, bool gzip = false)
    {
        var rng = new Rng(seed, 77);
        var images = new double[n * size * size];
        var labels = new double[n];
        for (int i = 0; i < n; i++)
        {
            int c = (int)(rng.NextUInt64() % (ulong)classes);
            labels[i] = c;
            for (int p = 0; p < size * size; p++) images[i * size * size + p] = Math.Floor(rng.NextDouble() * 60);
            int r0 = 1 + c * (size - 3) / Math.Max(1, classes - 1), c0 = 1 + (c * 3) % (size - 2);
            r0 = Math.Min(r0, size - 2); c0 = Math.Min(c0, size - 2);
            for (int dr = 0; dr < 2; dr++)
            for (int dc = 0; dc < 2; dc++)
                images[i * size * size + (r0 + dr) * size + c0 + dc] = 200 + Math.Floor(rng.NextDouble() * 55);
        }
        string suffix = gzip ? ".gz" : "";
        string img = Path.Combine(dir, $"{prefix}-images-idx3-ubyte{suffix}"),
            lab = Path.Combine(dir, $"{prefix}-labels-idx1-ubyte{suffix}");
        Idx.Write(img, IdxType.UByte, [n, size, size], images, gzip);
        Idx.Write(lab, IdxType.UByte, [n], labels, gzip);
        return (img, lab);
    }

    private CnnMnistConfig Tiny(int size = 8, int classes = 3, bool f64 = true)
    {
        var (ti, tl) = WriteData(_dir, "train", 96, size, classes, 1);
        var (si, sl) = WriteData(_dir, "t10k", 48, size, classes, 2);
        return new CnnMnistConfig
        {
            TrainImages = ti, TrainLabels = tl, TestImages = si, TestLabels = sl,
            Seed = 3, Channels1 = 2, Channels2 = 3, Kernel = 3, Classes = classes,
            Lr = 0.05, BatchSize = 16, Steps = 40, Checkpoints = [0, 10, 40], ProbeSize = 4, Float32 = !f64,
            SmoothnessCutoff = 0.7,   // 3x3 filters have no frequency below 0.667 of Nyquist besides DC
        };
    }

    // --- an independent float64 forward pass in plain loops ---------------------------------------

    private static double[] Conv(double[] x, int cin, int h, int w, double[] weight, double[] bias, int cout, int k)
    {
        int pad = k / 2;
        var y = new double[cout * h * w];
        for (int o = 0; o < cout; o++)
        for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
        {
            double s = bias[o];
            for (int i = 0; i < cin; i++)
            for (int dr = 0; dr < k; dr++)
            for (int dc = 0; dc < k; dc++)
            {
                int rr = r + dr - pad, cc = c + dc - pad;
                if (rr < 0 || rr >= h || cc < 0 || cc >= w) continue;
                s += weight[((o * cin + i) * k + dr) * k + dc] * x[(i * h + rr) * w + cc];
            }
            y[(o * h + r) * w + c] = Math.Max(0, s);   // ReLU
        }
        return y;
    }

    private static double[] Pool(double[] x, int ch, int h, int w)
    {
        int h2 = h / 2, w2 = w / 2;
        var y = new double[ch * h2 * w2];
        for (int o = 0; o < ch; o++)
        for (int r = 0; r < h2; r++)
        for (int c = 0; c < w2; c++)
            y[(o * h2 + r) * w2 + c] = 0.25 * (x[(o * h + 2 * r) * w + 2 * c] + x[(o * h + 2 * r) * w + 2 * c + 1]
                + x[(o * h + 2 * r + 1) * w + 2 * c] + x[(o * h + 2 * r + 1) * w + 2 * c + 1]);
        return y;
    }

    private static double[] ReferenceLogits(double[] image, int size, CnnMnistConfig c,
        IReadOnlyDictionary<string, double[]> p)
    {
        var h1 = Pool(Conv(image, 1, size, size, p["conv1"], p["b1"], c.Channels1, c.Kernel), c.Channels1, size, size);
        int s1 = size / 2;
        var h2 = Pool(Conv(h1, c.Channels1, s1, s1, p["conv2"], p["b2"], c.Channels2, c.Kernel), c.Channels2, s1, s1);
        var logits = new double[c.Classes];
        for (int k = 0; k < c.Classes; k++)
        {
            double s = p["b_out"][k];
            for (int f = 0; f < h2.Length; f++) s += h2[f] * p["W_out"][f * c.Classes + k];
            logits[k] = s;
        }
        return logits;
    }

    private static double[] Image(CnnMnistTrainer t, int i)
    {
        using var scope = torch.NewDisposeScope();
        return t.TrainInputs[i].to_type(ScalarType.Float64).data<double>().ToArray();
    }

    [Fact]
    public void Forward_matches_plain_loops_in_float64()
    {
        var c = Tiny(size: 9) with { Steps = 5 };   // odd size: the pooling drops the last row and column
        using var t = new CnnMnistTrainer(c);
        t.Run();   // move the parameters off the init (biases nonzero)
        var p = t.Export();
        Assert.Contains(p["b1"], v => v != 0);
        using var scope = torch.NewDisposeScope();
        var logits = t.Forward(t.TrainInputs.narrow(0, 0, 5)).data<double>().ToArray();
        double worst = 0;
        for (int i = 0; i < 5; i++)
        {
            var reference = ReferenceLogits(Image(t, i), 9, c, p);
            for (int k = 0; k < c.Classes; k++)
                worst = Math.Max(worst,
                    Math.Abs(logits[i * c.Classes + k] - reference[k]) / Math.Max(1, Math.Abs(reference[k])));
        }
        output.WriteLine($"worst relative difference {worst:E2}");
        Assert.True(worst < 1e-12, $"forward differs from plain loops by {worst:E2}");
    }

    [Fact]
    public void Empirical_ntk_matches_central_differences_of_plain_loop_logits()
    {
        var c = Tiny() with { Steps = 5, ProbeSize = 3 };
        using var t = new CnnMnistTrainer(c);
        t.Run();
        var p = t.Export();
        using var scope = torch.NewDisposeScope();
        var k = t.EmpiricalNtk().data<double>().ToArray();
        // Jacobian by central differences on the plain-loop logits (h = 1e-6: error O(h²) ≈ 1e-12 against
        // rounding ≈ 1e-10).
        int rows = c.ProbeSize * c.Classes;
        var jac = new List<double[]>();
        foreach (var name in new[] { "conv1", "b1", "conv2", "b2", "W_out", "b_out" })
            for (int j = 0; j < p[name].Length; j++)
            {
                var col = new double[rows];
                double keep = p[name][j];
                const double h = 1e-6;
                for (int i = 0; i < c.ProbeSize; i++)
                {
                    p[name][j] = keep + h;
                    var plus = ReferenceLogits(Image(t, i), 8, c, p);
                    p[name][j] = keep - h;
                    var minus = ReferenceLogits(Image(t, i), 8, c, p);
                    for (int cl = 0; cl < c.Classes; cl++) col[i * c.Classes + cl] = (plus[cl] - minus[cl]) / (2 * h);
                }
                p[name][j] = keep;
                jac.Add(col);
            }
        double worst = 0, scale = k.Max(Math.Abs);
        for (int a = 0; a < rows; a++)
        for (int b = 0; b < rows; b++)
        {
            double fd = jac.Sum(col => col[a] * col[b]);
            worst = Math.Max(worst, Math.Abs(fd - k[a * rows + b]) / scale);
        }
        output.WriteLine($"NTK {rows}x{rows}, max |K| {scale:G4}, worst difference / max {worst:E2}");
        Assert.True(worst < 1e-6, $"NTK differs from finite differences by {worst:E2} of its largest entry");
    }

    private static double MeanCrossEntropy(CnnMnistTrainer t, CnnMnistConfig c, IReadOnlyDictionary<string, double[]> p,
        int[] labels)
    {
        double sum = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            var z = ReferenceLogits(Image(t, i), 8, c, p);
            double max = z.Max(), lse = max + Math.Log(z.Sum(v => Math.Exp(v - max)));
            sum += lse - z[labels[i]];
        }
        return sum / labels.Length;
    }

    /// <summary>∇ of the plain-loop mean cross-entropy by central differences (h = 1e-6).</summary>
    private static Dictionary<string, double[]> Gradient(CnnMnistTrainer t, CnnMnistConfig c,
        Dictionary<string, double[]> p, int[] labels)
    {
        var g = new Dictionary<string, double[]>();
        foreach (var (name, a) in p)
        {
            g[name] = new double[a.Length];
            for (int j = 0; j < a.Length; j++)
            {
                double keep = a[j];
                a[j] = keep + 1e-6; double plus = MeanCrossEntropy(t, c, p, labels);
                a[j] = keep - 1e-6; double minus = MeanCrossEntropy(t, c, p, labels);
                a[j] = keep;
                g[name][j] = (plus - minus) / 2e-6;
            }
        }
        return g;
    }

    [Fact]
    public void Sgd_with_momentum_and_weight_decay_matches_a_hand_update_on_finite_difference_gradients()
    {
        // Full batch, float64: v1 = g0 + λθ0, θ1 = θ0 − lr·v1; v2 = μ·v1 + g1 + λθ1, θ2 = θ1 − lr·v2.
        var c = Tiny() with { BatchSize = 0, Momentum = 0.9, WeightDecay = 0.01, Lr = 0.05, Checkpoints = [0] };
        var labels = Idx.ReadLabels(c.TrainLabels);
        Dictionary<string, double[]> theta1, theta2;
        double loss0;
        using (var t = new CnnMnistTrainer(c with { Steps = 1 })) { loss0 = t.Run()[0].TrainLoss; theta1 = t.Export(); }
        using (var t = new CnnMnistTrainer(c with { Steps = 2 })) { t.Run(); theta2 = t.Export(); }
        using var tr = new CnnMnistTrainer(c);
        var theta0 = CnnMnistTrainer.Init(c, 8, 8);
        Assert.Equal(MeanCrossEntropy(tr, c, theta0, labels), loss0, 12);   // the row's loss is the plain-loop loss
        var g0 = Gradient(tr, c, theta0, labels);
        var g1 = Gradient(tr, c, theta1, labels);
        double worst = 0, moved = 0;
        foreach (var name in theta0.Keys)
            for (int j = 0; j < theta0[name].Length; j++)
            {
                double v1 = g0[name][j] + c.WeightDecay * theta0[name][j];
                double e1 = theta0[name][j] - c.Lr * v1;
                double e2 = e1 - c.Lr * (c.Momentum * v1 + g1[name][j] + c.WeightDecay * theta1[name][j]);
                worst = Math.Max(worst, Math.Max(Math.Abs(theta1[name][j] - e1), Math.Abs(theta2[name][j] - e2)));
                moved = Math.Max(moved, Math.Abs(theta2[name][j] - theta0[name][j]));
            }
        output.WriteLine($"largest move {moved:G3}, worst difference from the hand update {worst:E2}");
        Assert.True(moved > 1e-3, "the parameters should move");
        // Finite-difference error ≈ 1e-10 (h² terms and rounding / h), times lr: far below 1e-8.
        Assert.True(worst < 1e-8, $"SGD update differs from the hand update by {worst:E2}");
    }

    [Fact]
    public void Inputs_are_standardised_by_the_training_pixels_mean_and_std()
    {
        var c = Tiny();
        var raw = Idx.LoadMnist(c.TrainImages, c.TrainLabels);
        double mean = raw.Images.Average(), std = Math.Sqrt(raw.Images.Select(v => (v - mean) * (v - mean)).Average());
        using var t = new CnnMnistTrainer(c);
        Assert.Equal(mean, t.Standardisation.Mean, 12);
        Assert.Equal(std, t.Standardisation.Std, 12);
        using var scope = torch.NewDisposeScope();
        var x = t.TrainInputs.data<double>().ToArray();
        for (int i = 0; i < x.Length; i++) Assert.Equal((raw.Images[i] - mean) / std, x[i], 12);
    }

    [Fact]
    public void Kernel_distance_is_one_minus_the_cosine()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new double[] { 1, 0, 0, 1 }, [2, 2]);
        Assert.Equal(0, CnnMnistTrainer.KernelDistance(a, a.mul(7.5)), 12);           // scale-free
        // orthogonal
        Assert.Equal(1, CnnMnistTrainer.KernelDistance(a, torch.tensor(new double[] { 0, 1, 1, 0 }, [2, 2])), 12);
        // ⟨I, [[1,1],[1,1]]⟩ = 2, norms √2 and 2: 1 − 2/(2√2) = 1 − 1/√2.
        Assert.Equal(1 - 1 / Math.Sqrt(2), CnnMnistTrainer.KernelDistance(a, torch.ones(2, 2, ScalarType.Float64)), 12);
    }

    [Fact]
    public void Alpha_divides_only_the_first_conv_layers_init()
    {
        var c = Tiny();
        var one = CnnMnistTrainer.Init(c, 8, 8);
        var four = CnnMnistTrainer.Init(c with { Alpha = 4 }, 8, 8);
        for (int i = 0; i < one["conv1"].Length; i++) Assert.Equal(one["conv1"][i] / 4, four["conv1"][i], 15);
        foreach (var name in new[] { "b1", "conv2", "b2", "W_out", "b_out" }) Assert.Equal(one[name], four[name]);
        // He init: the sample variance of conv2 is near 2/fan_in (fan_in = 2·3·3 = 18; 54 draws: loose).
        double var2 = one["conv2"].Select(x => x * x).Average();
        Assert.InRange(var2, 2.0 / 18 * 0.5, 2.0 / 18 * 1.6);
    }

    [Fact]
    public void Learns_the_tiny_task_and_reports_consistent_metrics()
    {
        var c = Tiny(f64: false) with { Steps = 150, Checkpoints = [0, 150], Lr = 0.1 };
        using var t = new CnnMnistTrainer(c);
        var rows = t.Run();
        foreach (var r in rows) output.WriteLine(r.ToString());
        Assert.Equal([0L, 150L], rows.Select(r => r.Step));
        Assert.Equal(0, rows[0].KernelDistance, 6);
        Assert.Equal(0, rows[0].ParameterDistance);
        Assert.True(rows[1].KernelDistance > 0 && rows[1].KernelDistance <= 1);
        Assert.True(rows[1].ParameterDistance > 0);
        Assert.True(rows[1].TrainLoss < rows[0].TrainLoss * 0.5, "training loss should at least halve");
        Assert.True(rows[1].TestAccuracy > 0.8, $"test accuracy {rows[1].TestAccuracy} on a task of 3 blobs");
        Assert.InRange(rows[1].FilterSmoothness, 0, 1);
        // The row's smoothness is the pure metric applied to the exported filters.
        Assert.Equal(FilterSmoothness.LayerScore(t.Export()["conv1"], 2, 3, 3, c.SmoothnessCutoff),
            rows[1].FilterSmoothness, 6);
    }

    private static string Json(IEnumerable<CnnMnistRow> rows) =>
        JsonSerializer.Serialize(rows.Select(r => r with { ResumedFromStep = 0 }), TrainingJson.Rows);

    [Fact]
    public void Resume_after_cancellation_and_past_a_corrupt_state_is_bit_identical()
    {
        var c = Tiny(f64: false) with { Momentum = 0.9, WeightDecay = 1e-3, Steps = 30, Checkpoints = [0, 10, 20, 30] };
        string baseline;
        using (var t = new CnnMnistTrainer(c)) baseline = Json(t.Run());

        // Cancelled when the row at step 10 exists: the state is saved at step 11 (the step after the check).
        var cp = c with { CheckpointDir = Path.Combine(_dir, "states"), CheckpointEvery = 5 };
        using (var cts = new CancellationTokenSource())
        using (var t = new CnnMnistTrainer(cp) { RowReady = r => { if (r.Step == 10) cts.Cancel(); } })
            Assert.Throws<OperationCanceledException>(() => t.Run(cts.Token));
        var store = new StateStore(cp.CheckpointDir);
        Assert.Equal(11, store.Files().First().Step);
        List<CnnMnistRow> resumed;
        using (var t = new CnnMnistTrainer(cp)) resumed = t.Run().ToList();
        Assert.Equal(11, resumed[^1].ResumedFromStep);
        Assert.Equal(baseline, Json(resumed));   // momentum buffers restored too, or this differs

        // Corrupt the final state and the one before: the run resumes from the newest good one (step 25).
        var files = store.Files().ToList();
        Assert.Equal(30, files[0].Step);
        foreach (var (_, path) in files.Take(2))
        {
            var bytes = File.ReadAllBytes(path);
            bytes[bytes.Length / 2] ^= 0x40;
            File.WriteAllBytes(path, bytes);
        }
        var logs = new List<string>();
        using (var t = new CnnMnistTrainer(cp) { Log = logs.Add }) resumed = t.Run().ToList();
        Assert.Contains(logs, l => l.Contains("checksum"));
        Assert.Equal(files[2].Step, resumed[^1].ResumedFromStep);
        Assert.Equal(baseline, Json(resumed));
    }

    [Fact]
    public void Changed_data_is_not_resumed_from_a_state_of_other_data()
    {
        var c = Tiny(f64: false)
            with { Steps = 10, Checkpoints = [0, 10], CheckpointDir = Path.Combine(_dir, "s2"), CheckpointEvery = 5 };
        using (var t = new CnnMnistTrainer(c)) t.Run();
        // Same paths, other contents: the fingerprint (data hash) differs, so the run starts over.
        WriteData(_dir, "train", 96, 8, 3, 99);
        using var t2 = new CnnMnistTrainer(c);
        var rows = t2.Run();
        Assert.Equal(0, rows[^1].ResumedFromStep);
    }

    [Fact]
    public void Bad_data_gives_one_line_errors_naming_the_key()
    {
        var c = Tiny();
        var e = Assert.Throws<SpecException>(() => new CnnMnistTrainer(c with { Classes = 2 }));
        Assert.Equal("train_labels", e.Key);
        Assert.Contains("label 2", e.Message);
        var (si, sl) = WriteData(_dir, "odd", 20, 10, 3, 5);
        e = Assert.Throws<SpecException>(() => new CnnMnistTrainer(c with { TestImages = si, TestLabels = sl }));
        Assert.Contains("10x10", e.Message);
        e = Assert.Throws<SpecException>(() => new CnnMnistTrainer(c with { TrainLabels = sl }));
        Assert.Contains("images but", e.Message);
        // A labels file that is not one: the error names the labels key, not the images key.
        string garbage = Path.Combine(_dir, "garbage");
        File.WriteAllBytes(garbage, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        e = Assert.Throws<SpecException>(() => new CnnMnistTrainer(c with { TestLabels = garbage }));
        Assert.Equal("test_labels", e.Key);
        e = Assert.Throws<SpecException>(() =>
            new CnnMnistTrainer(c with { TrainLabels = Path.Combine(_dir, "nope") }));
        Assert.Equal("train_labels", e.Key);
        e = Assert.Throws<SpecException>(() => new CnnMnistTrainer(c with { TrainSize = 500 }));
        Assert.Equal("train_size", e.Key);
        Assert.Contains("96", e.Message);
        e = Assert.Throws<SpecException>(() =>
            new CnnMnistTrainer(c with { TrainImages = Path.Combine(_dir, "missing") }));
        Assert.Equal("train_images", e.Key);
        e = Assert.Throws<SpecException>(() => new CnnMnistTrainer(c with { ProbeSize = 500 }));
        Assert.Equal("probe_size", e.Key);
        e = Assert.Throws<SpecException>(() =>
            new CnnMnistTrainer(c with { Channels1 = 4000, Channels2 = 4000, ProbeSize = 96 }));
        Assert.Contains("GiB", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
