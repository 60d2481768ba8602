using System.Text.Json.Nodes;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// `cnn-mnist`: a two-conv-layer CNN trained by SGD on MNIST-format IDX files, its first conv
/// layer's init divided by α (SCIENCE.md §4, issue 6 item 1); kernel movement on a probe batch
/// and first-layer filter smoothness per checkpoint; resumable from saved states.
/// </summary>
public sealed class CnnMnistRun : IRunKind
{
    private const string KindName = "cnn-mnist";
    private const bool RunsOnCuda = false;
    /// <summary>The standard MNIST file names looked for in `data_dir` (each also with ".gz").</summary>
    public static readonly (string Key, string File)[] StandardFiles =
    [
        ("train_images", "train-images-idx3-ubyte"),
        ("train_labels", "train-labels-idx1-ubyte"),
        ("test_images", "t10k-images-idx3-ubyte"),
        ("test_labels", "t10k-labels-idx1-ubyte"),
    ];

    public string Name => KindName;
    public IReadOnlyDictionary<string, (double Min, double Max)> Metrics { get; } =
        new Dictionary<string, (double, double)>
        {
            ["train_loss"] = (0, double.PositiveInfinity), ["test_loss"] = (0, double.PositiveInfinity),
            ["train_accuracy"] = (0, 1), ["test_accuracy"] = (0, 1),
            ["kernel_distance"] = (0, 1), ["parameter_distance"] = (0, double.PositiveInfinity),
            ["filter_smoothness"] = (0, 1),
        };
    public IReadOnlySet<string> AxisParameters { get; } = new HashSet<string>
    {
        "alpha", "lr", "momentum", "weight_decay", "channels1", "channels2", "train_size",
    };
    public IReadOnlySet<string> IntegerAxes { get; } = new HashSet<string> { "channels1", "channels2", "train_size" };
    public bool HasSeed => true;
    public bool Resumable => true;
    public IReadOnlyList<PathKey> PathKeys { get; } =
    [
        .. TrainingKeys.PathKeys,
        new("data_dir", PathUse.Read),
        .. StandardFiles.Select(f => new PathKey(f.Key, PathUse.Read, RelativeTo: "data_dir",
            Implicit: [f.File, f.File + ".gz"])),
        new("filters_dir", PathUse.Write),
    ];
    public string Summary => "two-conv-layer CNN by SGD on MNIST IDX files, first conv init / alpha; kernel_distance "
        + "of the empirical NTK on a probe batch, filter_smoothness of the first-layer filters";
    public IReadOnlyList<SpecKey> Keys { get; } =
    [
        new("data_dir", "required (or the four files)", "directory holding the standard MNIST names "
            + "(train-images-idx3-ubyte etc., plain or .gz)"),
        new("train_images", "from data_dir", "IDX image file (relative paths are under data_dir)"),
        new("train_labels", "from data_dir", "IDX label file"),
        new("test_images", "from data_dir", "IDX image file, same image size as the training images"),
        new("test_labels", "from data_dir", "IDX label file"),
        new("train_size", "all", "use the first N training images, integer ≥ 1"),
        new("test_size", "all", "use the first N test images, integer ≥ 1"),
        new("seed", "0", "integer ≥ 0: init and minibatch order"),
        new("alpha", "1", "> 0: the first conv layer's init is divided by α"),
        new("channels1", "16", "first conv layer's channels, integer in [1, 4096]"),
        new("channels2", "32", "second conv layer's channels, integer in [1, 4096]"),
        new("kernel", "5", "conv kernel size k (k×k), odd, in [3, 31]"),
        new("lr", "0.05", "SGD learning rate, > 0"),
        new("momentum", "0", "heavy-ball momentum, in [0, 1)"),
        new("weight_decay", "0", "L2 penalty on all parameters, ≥ 0"),
        new("batch_size", "64", "minibatch size, integer ≥ 0 (0: full batch)"),
        new("steps", "2000", "SGD steps, integer ≥ 0"),
        TrainingKeys.CheckpointsKey,
        new("eval_size", "10000", "training images the train metrics are computed on, integer ≥ 1"),
        new("probe_size", "32", "training images the empirical NTK is computed on, integer in [1, 512]"),
        new("smoothness_cutoff", "0.5", "fraction of Nyquist below which filter energy counts as smooth, > 0"),
        new("filter_images", "true if filters_dir is given", "write filters-STEP.png of the first-layer filters"),
        new("filters_dir", "= checkpoint_dir", "where filter_images writes its PNGs"),
        .. TrainingKeys.CommonKeys(RunsOnCuda, "float32", 1000),
    ];

    public void Validate(Spec spec) => Data(Parse(spec));

    public double MemoryBytes(Spec spec)
    {
        var config = Parse(spec);
        var (train, test, pixels) = Data(config);
        return RunMemory.CnnMnist(config, train, test, pixels);
    }

    /// <summary>
    /// The four files exist and their headers (read alone, not the 47 MB behind them) say images and labels of
    /// the same counts, and train and test images of one size: a sweep pointed at the wrong files is refused
    /// before it starts, instead of every run failing.
    /// </summary>
    private static (int Train, int Test, int Pixels) Data(CnnMnistConfig c)
    {
        var (train, trainRows, trainCols) = Pair("train", c.TrainImages, c.TrainLabels);
        var (test, testRows, testCols) = Pair("test", c.TestImages, c.TestLabels);
        if ((trainRows, trainCols) != (testRows, testCols))
            throw new SpecException($"key 'test_images': {testRows}x{testCols} images, but the training images are "
                + $"{trainRows}x{trainCols}");
        return (train, test, trainRows * trainCols);
    }

    private static (int Count, int Rows, int Cols) Pair(string set, string images, string labels)
    {
        var shape = Header($"{set}_images", images, Idx.ImagesMagic, 3);
        int count = Header($"{set}_labels", labels, Idx.LabelsMagic, 1)[0];
        if (count != shape[0])
            throw new SpecException($"key '{set}_labels': '{labels}' holds {count} labels but '{images}' holds "
                + $"{shape[0]} images");
        return (shape[0], shape[1], shape[2]);
    }

    private static int[] Header(string key, string path, int magic, int dims)
    {
        if (!File.Exists(path)) throw new SpecException($"key '{key}': no such file '{path}'");
        try
        {
            var (type, shape) = Idx.ReadHeader(path);
            if (type != IdxType.UByte || shape.Length != dims)
                throw new SpecException($"key '{key}': '{path}' is not an IDX {(dims == 3 ? "image" : "label")} file "
                    + $"(magic 0x{magic:x8} expected, found {type} with {shape.Length} dims)");
            return shape;
        }
        catch (IdxFormatException e) { throw new SpecException($"key '{key}': {e.Message}"); }
    }

    public static CnnMnistConfig Parse(Spec spec)
    {
        string? dataDir = spec.OptionalString("data_dir");
        string File(string key)
        {
            if (spec.OptionalString(key) is { } path)
                return dataDir is not null && !Path.IsPathRooted(path) ? Path.Combine(dataDir, path) : path;
            if (dataDir is null)
                throw new SpecException($"key '{key}' is required (a path to an IDX file), "
                    + "or give 'data_dir' holding the standard MNIST file names");
            string name = StandardFiles.First(f => f.Key == key).File;
            foreach (var candidate in new[] { name, name + ".gz" })
                if (System.IO.File.Exists(Path.Combine(dataDir, candidate))) return Path.Combine(dataDir, candidate);
            throw new SpecException(
                $"key 'data_dir': '{dataDir}' holds neither {name} nor {name}.gz (give '{key}' to name the file)");
        }
        string trainImages = File("train_images"), trainLabels = File("train_labels"),
            testImages = File("test_images"), testLabels = File("test_labels");
        int? trainSize = spec.Has("train_size") ? (int)spec.Integer("train_size", null, 1, int.MaxValue) : null;
        int? testSize = spec.Has("test_size") ? (int)spec.Integer("test_size", null, 1, int.MaxValue) : null;
        long seed = spec.Integer("seed", 0, 0);
        double alpha = spec.PositiveNumber("alpha", 1);
        int c1 = (int)spec.Integer("channels1", 16, 1, 4096);
        int c2 = (int)spec.Integer("channels2", 32, 1, 4096);
        int kernel = (int)spec.Integer("kernel", 5, 1, 31);
        if (kernel % 2 == 0)
            throw new SpecException($"key 'kernel' must be odd (\"same\" padding keeps the image size), got {kernel}");
        if (kernel == 1)
            throw new SpecException(
                "key 'kernel': a 1x1 filter has no spatial frequencies (filter smoothness undefined); use 3 or more");
        double lr = spec.PositiveNumber("lr", 0.05);
        double momentum = spec.Number("momentum", 0);
        if (!(momentum >= 0 && momentum < 1))
            throw new SpecException($"key 'momentum' must be in [0, 1), got {momentum:R}");
        double wd = spec.Number("weight_decay", 0);
        if (!(wd >= 0)) throw new SpecException($"key 'weight_decay' must be >= 0, got {wd:R}");
        int batch = (int)spec.Integer("batch_size", 64, 0, int.MaxValue);
        long steps = spec.Integer("steps", 2000, 0);
        long[] checkpoints = spec.Checkpoints(steps);
        int evalSize = (int)spec.Integer("eval_size", 10_000, 1, int.MaxValue);
        int probe = (int)spec.Integer("probe_size", 32, 1, 512);
        double cutoff = spec.PositiveNumber("smoothness_cutoff", FilterSmoothness.DefaultCutoff);
        try { FilterSmoothness.WhiteNoiseBaseline(kernel, kernel, cutoff); }
        catch (ArgumentException e)
        {
            throw new SpecException($"key 'smoothness_cutoff': {e.Message.Split(" (Parameter")[0]}");
        }
        string? filtersDir = spec.OptionalString("filters_dir");
        bool images = spec.Bool("filter_images", filtersDir is not null);   // naming a directory asks for the PNGs
        if (!images && filtersDir is not null)
            throw new SpecException("key 'filters_dir' is given but 'filter_images' is false");
        var common = spec.Common(KindName, RunsOnCuda, steps, "float32", 1000);
        string? dir = common.CheckpointDir;
        if (images && filtersDir is null && dir is null)
            throw new SpecException(
                "key 'filter_images' needs 'filters_dir' or 'checkpoint_dir' (where to write the PNGs)");
        var config = new CnnMnistConfig
        {
            TrainImages = trainImages,
            TrainLabels = trainLabels,
            TestImages = testImages,
            TestLabels = testLabels,
            TrainSize = trainSize,
            TestSize = testSize,
            Seed = (ulong)seed,
            Alpha = alpha,
            Channels1 = c1,
            Channels2 = c2,
            Kernel = kernel,
            Lr = lr,
            Momentum = momentum,
            WeightDecay = wd,
            BatchSize = batch,
            Steps = steps,
            Checkpoints = checkpoints,
            EvalSize = evalSize,
            ProbeSize = probe,
            SmoothnessCutoff = cutoff,
            FiltersDir = images ? filtersDir ?? dir : null,
            FiltersShared = filtersDir is not null,   // a sweep's runs may share it
            Float32 = common.Float32,
            Threads = common.Threads,
            DivergenceLoss = common.DivergenceLoss,
            CheckpointEvery = common.CheckpointEvery,
            CheckpointDir = common.CheckpointDir,
        };
        spec.RejectUnknownKeys();
        return config;
    }

    public IReadOnlyList<JsonObject> Run(Spec spec, Action<string>? log = null, Action<JsonObject>? rowReady = null,
        CancellationToken cancellationToken = default)
    {
        var config = Parse(spec);
        using var trainer = new CnnMnistTrainer(config)
        {
            Log = log,
            RowReady = rowReady is null ? null : row => rowReady(ToJson(row)),
            Progress = TrainingKeys.StepProgress(log, "cnn-mnist", config.Steps, "batch loss"),
        };
        double noise = FilterSmoothness.WhiteNoiseBaseline(config.Kernel, config.Kernel, config.SmoothnessCutoff);
        log?.Invoke($"cnn-mnist: {trainer.TrainCount} training and {trainer.TestCount} test images, "
            + $"data {trainer.DataHash}; white-noise filter smoothness {noise:G4}");
        return trainer.Run(cancellationToken).Select(ToJson).ToList();
    }

    public static JsonObject ToJson(CnnMnistRow r) => new()
    {
        ["step"] = r.Step,
        ["train_loss"] = Json.Number(r.TrainLoss),
        ["train_accuracy"] = Json.Number(r.TrainAccuracy),
        ["test_loss"] = Json.Number(r.TestLoss),
        ["test_accuracy"] = Json.Number(r.TestAccuracy),
        ["kernel_distance"] = Json.Number(r.KernelDistance),
        ["parameter_distance"] = Json.Number(r.ParameterDistance),
        ["filter_smoothness"] = Json.Number(r.FilterSmoothness),
        ["status"] = r.Status,
        ["resumed_from_step"] = r.ResumedFromStep,
    };
}
