using System.Security.Cryptography;
using TorchSharp;
using static TorchSharp.torch;

namespace RichLazyOrleans.Training;

/// <summary>
/// Trains the `cnn-mnist` CNN with SGD and reports, at each checkpoint, train/test loss and
/// accuracy, the kernel distance of the empirical NTK on a fixed probe batch, the parameter
/// distance and the first layer's filter smoothness; optionally a PNG of the first-layer filters.
/// Resumable bit-identically from states saved by a <see cref="StateStore"/>.
/// </summary>
/// <remarks>
/// Network (images standardised by the training subset's pixel mean and std):
/// x [n, 1, H, W] → conv k×k (c1, "same" padding) → ReLU → 2×2 mean pool → conv k×k (c2) → ReLU →
/// 2×2 mean pool → flatten → linear to the classes. Conv weights N(0, 2/fan_in) (He; fan_in =
/// in_channels·k²), the first conv's divided by α; head N(0, 1/fan_in); biases 0; all from the
/// project's <see cref="Rng"/> (stream (seed, 3)), so the init does not depend on libtorch.
/// Mean pooling (a reshape and a mean) rather than max pooling keeps the backward pass free of
/// index scatters, which keeps runs reproducible bit for bit.
/// <para>
/// Empirical NTK on the probe batch (the first probe_size training images): J is the Jacobian of
/// all logits f_c(x_i) with respect to all parameters, one autograd pass per (i, c), and
/// K = J Jᵀ ((probe·classes)², float64); kernel_distance = 1 − ⟨K₀, K_t⟩_F / (‖K₀‖_F ‖K_t‖_F) as
/// in SCIENCE.md §1. K₀ comes from the seeded init, so a resumed run recomputes it exactly.
/// </para>
/// </remarks>
public sealed partial class CnnMnistTrainer : ITrainingEngine<CnnMnistRow>, IDisposable
{

    private readonly CnnMnistConfig _c;
    private readonly ScalarType _dtype;
    // images [n, 1, H, W] standardised; one-hot labels [n, classes]
    private readonly Tensor _xTrain, _yTrain, _xTest, _yTest, _xProbe;
    private readonly Tensor[] _params;
    private readonly Tensor[] _velocity;
    private readonly string[] _names;
    private readonly int _nTrain, _batch, _rows, _cols;
    private long _permEpoch = -1;
    private Tensor? _perm;
    private Tensor? _k0;               // the empirical NTK at the seeded init (K₀ of kernel_distance)
    private double[][] _theta0 = [];   // θ₀ per parameter tensor, as held

    public Action<string>? Log { get; init; }
    public Action<CnnMnistRow>? RowReady { get; init; }
    /// <summary>Called about every 5 s with (step, training loss of the last batch).</summary>
    public Action<long, double>? Progress { get; init; }

    /// <summary>SHA-256 (hex, first 16 bytes) of the examples used: images, labels, train then test.</summary>
    public string DataHash { get; }
    public int TrainCount => _nTrain;
    public int TestCount { get; }
    public (double Mean, double Std) Standardisation { get; }

    public CnnMnistTrainer(CnnMnistConfig config)
    {
        TorchRuntime.Probe(config.Threads);   // first: process-wide settings before any tensor
        using var scope = torch.NewDisposeScope();   // staging tensors go; the kept ones are detached from it
        _c = config;
        _dtype = config.Float32 ? ScalarType.Float32 : ScalarType.Float64;
        if (config.Kernel % 2 == 0)
            throw new SpecException("kernel", $"must be odd (\"same\" padding), got {config.Kernel}");
        try { FilterSmoothness.WhiteNoiseBaseline(config.Kernel, config.Kernel, config.SmoothnessCutoff); }
        catch (ArgumentException e) { throw new SpecException("smoothness_cutoff", e.Message.Split(" (Parameter")[0]); }
        var train = Load("train", config.TrainImages, config.TrainLabels, config.TrainSize);
        var test = Load("test", config.TestImages, config.TestLabels, config.TestSize);
        if (train.Rows != test.Rows || train.Cols != test.Cols)
            throw new SpecException("test_images",
                $"images are {test.Rows}x{test.Cols} but the training images are {train.Rows}x{train.Cols}");
        if (train.Rows < 4 || train.Cols < 4)
            throw new SpecException("train_images",
                $"images of {train.Rows}x{train.Cols} are too small for two 2x2 poolings (need at least 4x4)");
        foreach (var (d, key) in new[] { (train, "train_labels"), (test, "test_labels") })
            if (d.Labels.FirstOrDefault(l => l >= config.Classes, -1) is var bad and >= 0)
                throw new SpecException(key,
                    $"holds label {bad}; the network has {config.Classes} outputs (labels 0-{config.Classes - 1})");
        _rows = train.Rows;
        _cols = train.Cols;
        _nTrain = train.Count;
        TestCount = test.Count;
        if (config.ProbeSize > _nTrain)
            throw new SpecException("probe_size",
                $"{config.ProbeSize} probe images exceed the {_nTrain} training examples; "
                + "lower probe_size (default 32)");
        // The NTK's Jacobian is float64 [probe·classes, parameters]: refuse what would not fit comfortably.
        long jacobian = (long)config.ProbeSize * config.Classes
            * Shapes(config, _rows, _cols).Sum(s => s.Shape.Aggregate(1L, (a, b) => a * b));
        if (jacobian > MaxJacobianEntries)
            throw new SpecException("probe_size",
                $"the NTK's Jacobian would hold {jacobian:N0} float64 entries ({jacobian * 8.0 / (1 << 30):F1} GiB), "
                + $"more than {MaxJacobianEntries * 8 >> 30} GiB; lower probe_size or the channels");
        _batch = config.BatchSize <= 0 || config.BatchSize >= _nTrain ? _nTrain : config.BatchSize;
        DataHash = Hash(train, test);

        // Standardise by the training subset's statistics (float64, compensated), so the input scale
        // does not depend on how bright a dataset is.
        var sum = new Neumaier();
        foreach (double v in train.Images) sum.Add(v);
        double mean = sum.Sum / train.Images.Length;
        var sq = new Neumaier();
        foreach (double v in train.Images) sq.Add((v - mean) * (v - mean));
        double std = Math.Sqrt(sq.Sum / train.Images.Length);
        if (!(std > 0)) std = 1;   // constant images: nothing to learn, but no division by zero
        Standardisation = (mean, std);
        _xTrain = Images(train).DetachFromDisposeScope();
        _yTrain = Labels(train.Labels).DetachFromDisposeScope();
        _xTest = Images(test).DetachFromDisposeScope();
        _yTest = Labels(test.Labels).DetachFromDisposeScope();
        _xProbe = _xTrain.narrow(0, 0, config.ProbeSize).DetachFromDisposeScope();

        var shapes = Shapes(config, _rows, _cols);
        _names = shapes.Select(s => s.Name).ToArray();
        var init = Init(config, _rows, _cols);
        _params = shapes.Select(s => torch.tensor(init[s.Name], s.Shape, ScalarType.Float64).to_type(_dtype)
            .requires_grad_(true).DetachFromDisposeScope()).ToArray();
        _velocity = shapes.Select(s => torch.zeros(s.Shape, _dtype).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>Name of the filter PNGs before "-STEP.png" (see <see cref="CnnMnistConfig.FiltersShared"/>).</summary>
    public string FiltersPrefix => !_c.FiltersShared ? "filters" : FormattableString.Invariant(
        $"filters-alpha{_c.Alpha:G6}-seed{_c.Seed}-{Convert.ToHexString(
            SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(_c.Fingerprint(DataHash))), 0, 4).ToLowerInvariant()}");

    /// <summary>Float64 entries the NTK's Jacobian may hold (2 GiB).</summary>
    public const long MaxJacobianEntries = 1L << 28;

    /// <summary>
    /// An images/labels pair; errors name the key of the file at fault (`train_images`, `test_labels`, …).
    /// </summary>
    private static MnistData Load(string set, string images, string labels, int? limit)
    {
        string KeyOf(string message) =>
            message.Contains(labels) && !message.Contains(images) ? $"{set}_labels" : $"{set}_images";
        MnistData data;
        try { data = Idx.LoadMnist(images, labels, limit); }
        catch (IdxFormatException e) { throw new SpecException(KeyOf(e.Message), e.Message); }
        catch (FileNotFoundException e)
        {
            throw new SpecException(e.FileName == labels ? $"{set}_labels" : $"{set}_images",
                $"no such file '{e.FileName}'");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpecException(KeyOf(e.Message), $"cannot read the data ({e.Message})");
        }
        if (limit is { } n && data.Count < n)
            throw new SpecException($"{set}_size", $"{n} requested but '{images}' holds {data.Count} examples");
        return data;
    }

    private static string Hash(MnistData train, MnistData test)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var d in new[] { train, test })
        {
            sha.AppendData(BitConverter.GetBytes(d.Count));
            sha.AppendData(BitConverter.GetBytes(d.Rows));
            sha.AppendData(BitConverter.GetBytes(d.Cols));
            sha.AppendData(d.Images.Select(v => (byte)Math.Round(v * 255)).ToArray());
            sha.AppendData(d.Labels.Select(l => (byte)l).ToArray());
        }
        return Convert.ToHexString(sha.GetHashAndReset(), 0, 16).ToLowerInvariant();
    }

    private Tensor Images(MnistData d)
    {
        var (mean, std) = Standardisation;
        var x = new double[d.Images.Length];
        for (int i = 0; i < x.Length; i++) x[i] = (d.Images[i] - mean) / std;
        return torch.tensor(x, [d.Count, 1, d.Rows, d.Cols], ScalarType.Float64).to_type(_dtype);
    }

    private Tensor Labels(int[] labels)
    {
        var y = new double[labels.Length * _c.Classes];
        for (int i = 0; i < labels.Length; i++) y[i * _c.Classes + labels[i]] = 1;
        return torch.tensor(y, [labels.Length, _c.Classes], ScalarType.Float64).to_type(_dtype);
    }

    /// <summary>Features entering the head: c2 · ⌊⌊H/2⌋/2⌋ · ⌊⌊W/2⌋/2⌋.</summary>
    public static long HeadInputs(CnnMnistConfig c, int rows, int cols) =>
        (long)c.Channels2 * (rows / 2 / 2) * (cols / 2 / 2);

    /// <summary>
    /// Names and shapes: conv1 [c1, 1, k, k], b1 [c1], conv2 [c2, c1, k, k], b2 [c2], W_out [features, classes], b_out.
    /// </summary>
    public static IReadOnlyList<(string Name, long[] Shape)> Shapes(CnnMnistConfig c, int rows, int cols) =>
    [
        ("conv1", [c.Channels1, 1, c.Kernel, c.Kernel]),
        ("b1", [c.Channels1]),
        ("conv2", [c.Channels2, c.Channels1, c.Kernel, c.Kernel]),
        ("b2", [c.Channels2]),
        ("W_out", [HeadInputs(c, rows, cols), c.Classes]),
        ("b_out", [c.Classes]),
    ];

    /// <summary>The initial parameters (float64, row-major) from the seed alone; see the class remarks.</summary>
    public static Dictionary<string, double[]> Init(CnnMnistConfig c, int rows, int cols)
    {
        var rng = new Rng(c.Seed, 3);
        var result = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var (name, shape) in Shapes(c, rows, cols))
        {
            var a = new double[shape.Aggregate(1L, (x, y) => x * y)];
            double std = name switch
            {
                "conv1" => Math.Sqrt(2.0 / (1 * c.Kernel * c.Kernel)) / c.Alpha,
                "conv2" => Math.Sqrt(2.0 / (c.Channels1 * c.Kernel * c.Kernel)),
                "W_out" => Math.Sqrt(1.0 / shape[0]),
                _ => 0,
            };
            if (std > 0) for (long i = 0; i < a.Length; i++) a[i] = std * rng.NextGaussian();
            result[name] = a;
        }
        return result;
    }

    /// <summary>
    /// 2×2 mean pooling (odd edges dropped, as avg_pool2d does): a reshape and a mean, no index scatter.
    /// </summary>
    private static Tensor MeanPool2(Tensor x)
    {
        long n = x.shape[0], ch = x.shape[1], h = x.shape[2] / 2, w = x.shape[3] / 2;
        return x.narrow(2, 0, 2 * h).narrow(3, 0, 2 * w).reshape(n, ch, h, 2, w, 2).mean([3, 5]);
    }

    /// <summary>Logits [n, classes] for standardised images [n, 1, H, W].</summary>
    public Tensor Forward(Tensor x)
    {
        long pad = _c.Kernel / 2;
        var h = MeanPool2(torch.nn.functional.conv2d(x, _params[0], _params[1], padding: [pad, pad]).relu());
        h = MeanPool2(torch.nn.functional.conv2d(h, _params[2], _params[3], padding: [pad, pad]).relu());
        return h.flatten(1).matmul(_params[4]).add(_params[5]);
    }

    /// <summary>The training images as the network sees them (standardised), for tests.</summary>
    public Tensor TrainInputs => _xTrain;

    /// <summary>The current parameters by name, float64 (exact for float32 too).</summary>
    public Dictionary<string, double[]> Export() => NamedParameters.Export(_names, _params);

    public void Load(IReadOnlyDictionary<string, double[]> values) => NamedParameters.Load(_names, _params, values);

    private static Tensor CrossEntropy(Tensor logits, Tensor labels) =>
        logits.log_softmax(1).mul(labels).sum(1).mean().neg();

    /// <summary>
    /// Indices of the minibatch at a step: epoch e = ⌊s / batches per epoch⌋ is a permutation from (seed, 1000 + e).
    /// </summary>
    private Tensor BatchIndices(long step)
    {
        long perEpoch = _nTrain / _batch;
        long epoch = step / perEpoch, k = step % perEpoch;
        if (epoch != _permEpoch)
        {
            _perm?.Dispose();
            _perm = torch.tensor(new Rng(_c.Seed, 1000 + (ulong)epoch).Permutation(_nTrain)).DetachFromDisposeScope();
            _permEpoch = epoch;
        }
        return _perm!.narrow(0, k * _batch, _batch);
    }

    /// <summary>
    /// Trains from the latest saved state (or step 0) to config.Steps; one row per checkpoint, including those reported
    /// before a resume (<see cref="TrainingLoop{TRow}"/>).
    /// </summary>
    public IReadOnlyList<CnnMnistRow> Run(CancellationToken cancellationToken = default)
    {
        var schedule = new LoopSchedule("cnn-mnist", _c.Steps, _c.Checkpoints, _c.CheckpointEvery, _c.CheckpointDir,
            _c.Fingerprint(DataHash));
        var loop = new TrainingLoop<CnnMnistRow>(schedule) { Log = Log, RowReady = RowReady, Progress = Progress };
        try { return loop.Run(this, cancellationToken); }
        finally
        {
            _k0?.Dispose();
            _k0 = null;
        }
    }

    void ITrainingEngine<CnnMnistRow>.Start(SavedState? saved, bool finished)
    {
        // Step 0's kernel and parameters come from the seeded init, also when resuming (not needed when the saved
        // state is a finished run's: its rows are all there).
        _k0?.Dispose();
        _k0 = null;
        _theta0 = [];
        if (!finished)
        {
            Load(Init(_c, _rows, _cols));
            _k0 = EmpiricalNtk();
            var exported = Export();   // θ₀ as held (rounded to float32 in a float32 run)
            _theta0 = _names.Select(n => exported[n]).ToArray();
        }
        using (torch.no_grad()) foreach (var v in _velocity) v.zero_();
        if (saved is null) return;
        double[] Get(string name) => saved.Arrays.TryGetValue(name, out var a) ? a
            : throw new InvalidOperationException($"saved state lacks '{name}'");
        Load(_names.ToDictionary(n => n, n => Get("param/" + n)));
        using (torch.no_grad())
        using (var scope = torch.NewDisposeScope())
            for (int i = 0; i < _names.Length; i++)
                _velocity[i].copy_(torch.tensor(Get("velocity/" + _names[i]), _velocity[i].shape, ScalarType.Float64)
                    .to_type(_dtype));
    }

    IReadOnlyDictionary<string, double[]> ITrainingEngine<CnnMnistRow>.Export()
    {
        var arrays = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var (name, a) in Export()) arrays["param/" + name] = a;
        using var scope = torch.NewDisposeScope();
        for (int i = 0; i < _names.Length; i++)
            arrays["velocity/" + _names[i]] = _velocity[i].to_type(ScalarType.Float64).data<double>().ToArray();
        return arrays;
    }

    StepOutcome<CnnMnistRow> ITrainingEngine<CnnMnistRow>.Step(long step, bool report, bool last, long resumedFrom)
    {
        if (last) return new(double.NaN, report ? Report(step, "ok", null, resumedFrom) : null, StepEnd.Finished);
        using var scope = torch.NewDisposeScope();
        var (x, y) = MiniBatch.Take(_xTrain, _yTrain, _batch < _nTrain ? BatchIndices(step) : null);
        var l = CrossEntropy(Forward(x), y);
        double loss = l.to_type(ScalarType.Float64).item<double>();
        // The training loss is checked first, so a diverged step reports one row (not an "ok" one too).
        if (!double.IsFinite(loss) || loss > _c.DivergenceLoss)
            return new(loss, Report(step, "diverged", loss, resumedFrom), StepEnd.Diverged);
        var row = report ? Report(step, "ok", null, resumedFrom) : null;
        l.backward();
        SgdStep();
        return new(loss, row);
    }

    /// <summary>
    /// SGD with heavy-ball momentum and L2 weight decay: v ← μv + g + λθ; θ ← θ − lr·v (μ = 0: plain SGD).
    /// </summary>
    private void SgdStep()
    {
        using var noGrad = torch.no_grad();
        for (int i = 0; i < _params.Length; i++)
        {
            var g = _params[i].grad ?? throw new InvalidOperationException("no gradient");
            if (_c.WeightDecay != 0) g.add_(_params[i], alpha: _c.WeightDecay);
            if (_c.Momentum != 0)
            {
                _velocity[i].mul_(_c.Momentum).add_(g);
                _params[i].add_(_velocity[i], alpha: -_c.Lr);
            }
            else _params[i].add_(g, alpha: -_c.Lr);
            g.zero_();
        }
    }

    public void Dispose()
    {
        foreach (var t in _params) t.Dispose();
        foreach (var t in _velocity) t.Dispose();
        foreach (var t in new[] { _xTrain, _yTrain, _xTest, _yTest, _xProbe }) t.Dispose();
        _perm?.Dispose();
        _k0?.Dispose();
    }
}
