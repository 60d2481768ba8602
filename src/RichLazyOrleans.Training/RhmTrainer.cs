using System.Diagnostics;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace RichLazyOrleans.Training;

/// <summary>
/// Trains a fresh network (MLP or CNN, <see cref="RhmConfig.Learner"/>) for each training size in
/// ascending order and reports train/test loss and accuracy after <see cref="RhmConfig.Steps"/>
/// AdamW steps, plus the sample complexity (the smallest size so far whose test accuracy reaches the
/// target, see <see cref="SampleComplexity"/>).
/// </summary>
/// <remarks>
/// Data: one draw of max(train_sizes) + test_size distinct data (<see cref="RandomHierarchyModel.TrainTest"/>);
/// every size trains on a prefix of that training part (nested sets) and all are tested on the same
/// test set. Network: x (one-hot, position-major, flattened, length s^L·v) → [Linear → ReLU] × depth
/// → Linear to n_classes, or the CNN's L conv layers and readout (<see cref="Shapes"/>); every
/// weight N(0, 1/fan_in) from the project's <see cref="Rng"/> (stream (init_seed, 2)), the first
/// layer's divided by α, biases 0; the same init for every size. Saved states
/// (<see cref="StateStore"/>) are keyed by size_index·(steps + 1) + steps done within that size
/// (strictly increasing through the run); one is saved after each finished size, every
/// checkpoint_every steps within a size, and on cancellation.
/// </remarks>
public sealed class RhmTrainer : IDisposable
{
    private readonly RhmConfig _c;
    private readonly RandomHierarchyModel _rhm;
    private readonly Tensor _xAll, _yAll, _xTest, _yTest;   // training pool [Pmax_train, in], one-hot labels; test set
    private readonly Tensor[] _params;
    private readonly string[] _names;
    private readonly AdamW _adam;
    private readonly ScalarType _dtype;

    public Action<string>? Log { get; init; }
    public Action<RhmRow>? RowReady { get; init; }
    /// <summary>
    /// Called about every <see cref="ProgressSeconds"/> with (size index, steps done within the size, training loss of
    /// the last step).
    /// </summary>
    public Action<int, long, double>? Progress { get; init; }
    /// <summary>Seconds between <see cref="Progress"/> calls (0: after every step).</summary>
    public double ProgressSeconds { get; init; } = 5;

    public RandomHierarchyModel Rhm => _rhm;
    public int InputSize { get; }

    public RhmTrainer(RhmConfig config)
    {
        TorchRuntime.Probe(config.Threads);   // first: process-wide settings before any tensor
        _c = config;
        if (config.TrainSizes.Length == 0) throw new ArgumentException("no training sizes");
        _dtype = config.Float32 ? ScalarType.Float32 : ScalarType.Float64;
        _rhm = new RandomHierarchyModel(config.V, config.S, config.L, config.M, config.Seed, config.Classes);
        var (train, test) = _rhm.TrainTest(config.TrainSizes.Max(), config.TestSize, config.Seed);
        InputSize = _rhm.InputLength * config.V;
        _xAll = Inputs(train).DetachFromDisposeScope();
        _yAll = Labels(train.Labels).DetachFromDisposeScope();
        _xTest = Inputs(test).DetachFromDisposeScope();
        _yTest = Labels(test.Labels).DetachFromDisposeScope();
        var shapes = Shapes(config, InputSize);
        _names = shapes.Select(s => s.Name).ToArray();
        var init = Init(config, InputSize);
        _params = shapes.Select(s => torch.tensor(init[s.Name], s.Shape, ScalarType.Float64).to_type(_dtype)
            .requires_grad_(true).DetachFromDisposeScope()).ToArray();
        _adam = new AdamW(_params, config.Lr, config.Beta1, config.Beta2, config.Eps, config.WeightDecay);
    }

    /// <summary>One-hot inputs [n, s^L·v], position-major (entry p·v + token), in this run's dtype.</summary>
    public Tensor Inputs(RhmData d) =>
        torch.tensor(d.OneHot(channelsFirst: false), [d.Count, (long)d.InputLength * d.Vocabulary], ScalarType.Float64)
            .to_type(_dtype);

    private Tensor Labels(int[] labels)
    {
        var y = new double[labels.Length * _c.Classes];
        for (int i = 0; i < labels.Length; i++) y[i * _c.Classes + labels[i]] = 1;
        return torch.tensor(y, [labels.Length, _c.Classes], ScalarType.Float64).to_type(_dtype);
    }

    /// <summary>
    /// Names and shapes, x·W row-vector convention, first dimension = fan_in. MLP: W0 [in, width],
    /// b0, …, W_out [width, n_classes], b_out. CNN: conv layer l = 0 … L−1 is W{l} [s·C_l, width],
    /// b{l} [width] with C_0 = v and C_l = width after; then W_out [width, n_classes], b_out. A conv
    /// weight's row j·C_l + c (position j within the patch, input channel c) is the conv1d kernel
    /// entry K[o, c, j] = W{l}[j·C_l + c, o], so fan_in = C_l·s as for conv1d.
    /// </summary>
    public static IReadOnlyList<(string Name, long[] Shape)> Shapes(RhmConfig c, int inputSize)
    {
        var list = new List<(string, long[])>();
        long fanIn = c.Learner == RhmLearner.Cnn ? (long)c.S * c.V : inputSize;
        int layers = c.Learner == RhmLearner.Cnn ? c.L : c.HiddenLayers;
        for (int l = 0; l < layers; l++)
        {
            list.Add(($"W{l}", [fanIn, c.Width]));
            list.Add(($"b{l}", [c.Width]));
            fanIn = c.Learner == RhmLearner.Cnn ? (long)c.S * c.Width : c.Width;
        }
        // The CNN's last layer leaves length 1, so its readout sees `width` features.
        list.Add(("W_out", [c.Learner == RhmLearner.Cnn ? c.Width : fanIn, c.Classes]));
        list.Add(("b_out", [c.Classes]));
        return list;
    }

    /// <summary>
    /// The initial parameters (float64, row-major) from init_seed alone: weights N(0, 1/fan_in), W0 (the first dense or
    /// conv layer) also ÷ α; biases 0.
    /// </summary>
    public static Dictionary<string, double[]> Init(RhmConfig c, int inputSize)
    {
        var rng = new Rng(c.InitSeed, 2);
        var result = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var (name, shape) in Shapes(c, inputSize))
        {
            var a = new double[shape.Aggregate(1L, (x, y) => x * y)];
            if (name.StartsWith('W'))
            {
                double std = 1 / Math.Sqrt(shape[0]);
                if (name == "W0") std /= c.Alpha;
                for (long i = 0; i < a.Length; i++) a[i] = std * rng.NextGaussian();
            }
            result[name] = a;
        }
        return result;
    }

    /// <summary>
    /// Logits [n, n_classes] for flattened one-hot inputs [n, s^L·v] (position-major, <see cref="Inputs"/>).
    /// </summary>
    public Tensor Forward(Tensor x) => _c.Learner == RhmLearner.Cnn ? ForwardCnn(x) : ForwardMlp(x);

    private Tensor ForwardMlp(Tensor x)
    {
        var h = x;
        int k = 0;
        for (int l = 0; l < _c.HiddenLayers; l++, k += 2) h = h.matmul(_params[k]).add(_params[k + 1]).relu();
        return h.matmul(_params[k]).add(_params[k + 1]);
    }

    /// <summary>
    /// The hierarchical CNN. Activations are kept position-major, h [n, length, channels]: since
    /// kernel = stride = s the patches do not overlap, and patch q is the s consecutive rows
    /// q·s … q·s+s−1, i.e. one row of h viewed as [n, length/s, s·channels]. A conv layer is then
    /// one matmul with W{l} (exactly conv1d with K[o, c, j] = W{l}[j·C + c, o]), no im2col needed.
    /// </summary>
    private Tensor ForwardCnn(Tensor x)
    {
        long n = x.shape[0], length = _rhm.InputLength, channels = _c.V;
        var h = x;
        int k = 0;
        for (int l = 0; l < _c.L; l++, k += 2)
        {
            length /= _c.S;
            h = h.reshape(n, length, _c.S * channels).matmul(_params[k]).add(_params[k + 1]).relu();
            channels = _c.Width;
        }
        // After L layers the length is s^L / s^L = 1: h is [n, 1, width].
        return h.reshape(n, channels).matmul(_params[k]).add(_params[k + 1]);
    }

    /// <summary>Parameter names, in the order of <see cref="Shapes"/>.</summary>
    public IReadOnlyList<string> Names => _names;
    /// <summary>
    /// The parameter tensors (with gradients after a backward pass), in the order of <see cref="Names"/>.
    /// </summary>
    public IReadOnlyList<Tensor> Parameters => _params;

    /// <summary>The current parameters by name, float64 (exact for float32 too).</summary>
    public Dictionary<string, double[]> Export() => NamedParameters.Export(_names, _params);

    /// <summary>Sets every parameter from float64 values by name (as <see cref="Export"/> gives them).</summary>
    public void Load(IReadOnlyDictionary<string, double[]> values) => NamedParameters.Load(_names, _params, values);

    private static Tensor CrossEntropy(Tensor logits, Tensor labels) =>
        logits.log_softmax(1).mul(labels).sum(1).mean().neg();

    private (double Loss, double Accuracy) Evaluate(Tensor x, Tensor y)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var logits = Forward(x).to_type(ScalarType.Float64);
        var y64 = y.to_type(ScalarType.Float64);
        return (CrossEntropy(logits, y64).item<double>(),
            logits.argmax(1).eq(y64.argmax(1)).to_type(ScalarType.Float64).mean().item<double>());
    }

    /// <summary>
    /// Minibatch indices at a step of size k: epoch e uses a permutation from (init_seed, 1000 + 2^32·k + e).
    /// </summary>
    private static long[] Permutation(ulong seed, int sizeIndex, long epoch, int n) =>
        new Rng(seed, 1000 + ((ulong)sizeIndex << 32) + (ulong)epoch).Permutation(n);

    private long GlobalStep(int sizeIndex, long inner) => sizeIndex * (_c.Steps + 1) + inner;

    /// <summary>
    /// Runs every size from the latest saved state (or the start); one row per size, including those reported before a
    /// resume.
    /// </summary>
    public IReadOnlyList<RhmRow> Run(CancellationToken cancellationToken = default)
    {
        var store = _c.CheckpointDir is { } dir ? new StateStore(dir, Log) : null;
        string fingerprint = _c.Fingerprint();
        var rows = new List<RhmRow>();
        int sizeIndex = 0;
        long inner = 0, resumedFrom = 0;
        bool haveParams = false;
        if (store?.LoadLatest(fingerprint) is { } saved)
        {
            double[] Get(string name) => saved.Arrays.TryGetValue(name, out var a) ? a
                : throw new InvalidOperationException($"saved state lacks '{name}'");
            rows.AddRange(JsonSerializer.Deserialize<List<RhmRow>>(saved.RowsJson, TrainingJson.Rows) ?? []);
            sizeIndex = (int)Get("size_index")[0];
            inner = (long)Get("inner_step")[0];
            if (inner > 0)
            {
                Load(_names.ToDictionary(n => n, n => Get("param/" + n)));
                _adam.Restore(_names.Select(n => Get("adam_m/" + n)).ToArray(),
                    _names.Select(n => Get("adam_v/" + n)).ToArray(), (long)Get("adam_t")[0]);
                haveParams = true;
            }
            resumedFrom = saved.Step;
            Log?.Invoke($"resumed at size {sizeIndex}, step {inner} ({store.PathFor(saved.Step)})");
        }

        var init = Init(_c, InputSize);
        var clock = Stopwatch.StartNew();
        double lastReport = 0;
        for (; sizeIndex < _c.TrainSizes.Length; sizeIndex++, inner = 0, haveParams = false)
        {
            int n = _c.TrainSizes[sizeIndex];
            int batch = _c.BatchSize <= 0 || _c.BatchSize >= n ? n : _c.BatchSize;
            if (!haveParams) { Load(init); _adam.Reset(); }   // a fresh network for each size
            using var x = _xAll.narrow(0, 0, n);
            using var y = _yAll.narrow(0, 0, n);
            long permEpoch = -1;
            Tensor? perm = null;
            string status = "ok";
            try
            {
                for (; inner < _c.Steps; inner++)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        // Save this exact state so the run goes on from here, bit-identically.
                        if (store is not null && GlobalStep(sizeIndex, inner) > resumedFrom)
                            Save(store, fingerprint, sizeIndex, inner, rows);
                        Log?.Invoke($"interrupted at size {sizeIndex}, step " +
                            $"{inner}{(store is not null ? "; state saved" : "")}");
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                    double loss;
                    using (var scope = torch.NewDisposeScope())
                    {
                        Tensor xb = x, yb = y;
                        if (batch < n)
                        {
                            long perEpoch = n / batch, epoch = inner / perEpoch;
                            if (epoch != permEpoch)
                            {
                                perm?.Dispose();
                                perm = torch.tensor(Permutation(_c.InitSeed, sizeIndex, epoch, n))
                                    .DetachFromDisposeScope();
                                permEpoch = epoch;
                            }
                            var idx = perm!.narrow(0, inner % perEpoch * batch, batch);
                            xb = x.index_select(0, idx);
                            yb = y.index_select(0, idx);
                        }
                        var l = CrossEntropy(Forward(xb), yb);
                        loss = l.to_type(ScalarType.Float64).item<double>();
                        if (!double.IsFinite(loss) || loss > _c.DivergenceLoss)
                        {
                            Log?.Invoke($"size {n} diverged at step {inner}: training loss {loss:G4}");
                            status = "diverged";
                            break;
                        }
                        l.backward();
                        var grads = _params.Select(p => p.grad ?? throw new InvalidOperationException("no gradient"))
                            .ToArray();
                        _adam.Step(grads);
                        using (torch.no_grad()) foreach (var g in grads) g.zero_();
                    }
                    if (((inner + 1) & 1023) == 0) TrainingMeter.Add("rhm", 1024);
                    if (store is not null && _c.CheckpointEvery > 0 && inner + 1 < _c.Steps
                        && (inner + 1) % _c.CheckpointEvery == 0)
                        Save(store, fingerprint, sizeIndex, inner + 1, rows);
                    if (Progress is not null && clock.Elapsed.TotalSeconds - lastReport >= ProgressSeconds)
                    {
                        lastReport = clock.Elapsed.TotalSeconds;
                        Progress(sizeIndex, inner + 1, loss);
                    }
                }
            }
            finally { perm?.Dispose(); }

            var tr = Evaluate(x, y);
            var te = Evaluate(_xTest, _yTest);
            var curve = rows.Select(r => ((double)r.TrainSize, r.TestAccuracy)).Append((n, te.Accuracy)).ToList();
            var sc = SampleComplexity.Find(curve, _c.TargetAccuracy);
            rows.Add(new RhmRow(sizeIndex, n, tr.Loss, tr.Accuracy, te.Loss, te.Accuracy, sc.Smallest, sc.Interpolated,
                status, resumedFrom));
            RowReady?.Invoke(rows[^1]);
            // After each finished size: the next one starts from the (seeded) init, so no parameters are needed.
            if (store is not null) Save(store, fingerprint, sizeIndex + 1, 0, rows);
        }
        return rows.Select(r => r with { ResumedFromStep = resumedFrom }).ToList();
    }

    private void Save(StateStore store, string fingerprint, int sizeIndex, long inner, List<RhmRow> rows)
    {
        var arrays = new Dictionary<string, double[]>(StringComparer.Ordinal)
        {
            ["size_index"] = [sizeIndex],
            ["inner_step"] = [inner],
        };
        if (inner > 0)
        {
            foreach (var (name, a) in Export()) arrays["param/" + name] = a;
            var (m, v) = _adam.Moments();
            for (int i = 0; i < _names.Length; i++)
            {
                arrays["adam_m/" + _names[i]] = m[i];
                arrays["adam_v/" + _names[i]] = v[i];
            }
            arrays["adam_t"] = [_adam.StepCount];
        }
        string json = JsonSerializer.Serialize(rows, TrainingJson.Rows);
        store.Save(new SavedState(fingerprint, GlobalStep(sizeIndex, inner), arrays, json));
    }

    public void Dispose()
    {
        foreach (var t in _params) t.Dispose();
        _adam.Dispose();
        foreach (var t in new[] { _xAll, _yAll, _xTest, _yTest }) t.Dispose();
    }
}
