using System.Numerics;
using System.Text.Json.Nodes;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// `rhm`: the random hierarchy model learned by a ReLU MLP or the hierarchical CNN (`learner`), its
/// first layer's init divided by α, once per training-set size; test accuracy per size and the
/// sample complexity (issue 6 item 2).
/// </summary>
public sealed class RhmRun : IRunKind
{
    private const string KindName = "rhm";
    private const bool RunsOnCuda = false;
    public string Name => KindName;
    public IReadOnlyDictionary<string, (double Min, double Max)> Metrics { get; } =
        new Dictionary<string, (double, double)>
        {
            ["train_loss"] = (0, double.PositiveInfinity), ["test_loss"] = (0, double.PositiveInfinity),
            ["train_accuracy"] = (0, 1), ["test_accuracy"] = (0, 1),
            ["sample_complexity"] = (0, double.PositiveInfinity),
            ["sample_complexity_interpolated"] = (0, double.PositiveInfinity),
        };
    /// <summary>The metrics, and the training size each row is for.</summary>
    public IReadOnlyCollection<string> OutputColumns => [.. Metrics.Keys, "train_size"];
    public IReadOnlySet<string> AxisParameters { get; } =
        new HashSet<string> { "alpha", "lr", "width", "m", "weight_decay" };
    public IReadOnlySet<string> IntegerAxes { get; } = new HashSet<string> { "width", "m" };
    public bool HasSeed => true;
    public bool Resumable => true;
    public IReadOnlyList<PathKey> PathKeys => TrainingKeys.PathKeys;
    public string Summary => "random hierarchy model by a ReLU MLP or the hierarchical CNN, first layer init / "
        + "alpha, one row per training size; sample_complexity = smallest size with test accuracy >= target_accuracy";
    public IReadOnlyList<SpecKey> Keys { get; } =
    [
        new("v", "8", "vocabulary size, integer in [2, 65536]"),
        new("s", "2", "branching: each symbol is rewritten into s symbols, integer in [2, 64]"),
        new("L", "2", "depth of the hierarchy, integer in [1, 24]; inputs have s^L symbols (at most 65536)"),
        new("m", "4", "rules per symbol, integer ≥ 1 (m·n_classes ≤ v^s; m ≤ v^(s−1) for L ≥ 2)"),
        new("n_classes", "= v", "classes n_c, integer ≥ 1"),
        new("seed", "0", "integer ≥ 0: the rules and the data"),
        new("init_seed", "= seed", "integer ≥ 0: the network's init"),
        new("learner", "mlp", "mlp (ReLU MLP on the one-hot input) | cnn (L conv layers, kernel = stride = s)"),
        new("alpha", "1", "> 0: the first layer's init is divided by α"),
        new("width", "256", "hidden width (mlp) or channels (cnn), integer in [1, 65536]"),
        new("depth", "2", "hidden layers of the mlp, integer in [1, 64]; refused with learner cnn"),
        new("lr", "1e-3", "AdamW learning rate, > 0"),
        new("weight_decay", "0", "AdamW weight decay, ≥ 0"),
        new("steps", "1000", "optimiser steps per training size, integer ≥ 0"),
        new("batch_size", "0", "minibatch size, integer ≥ 0 (0: full batch)"),
        new("train_sizes", "6 sizes, geometric, 2·n_classes .. min(P_max/2, 4096)", "training-set sizes, integers "
            + "in [1, min(P_max − 1, 2²⁴)]; nested prefixes of one draw (P_max = n_c·m^((s^L−1)/(s−1)))"),
        new("test_size", "1000", "test inputs, integer ≥ 1, capped at P_max − max(train_sizes)"),
        new("target_accuracy", "0.9", "test accuracy that defines sample_complexity, in (0, 1]"),
        .. TrainingKeys.CommonKeys(RunsOnCuda, "float32", 0),
    ];

    public void Validate(Spec spec) => Parse(spec);

    public double MemoryBytes(Spec spec) => RunMemory.Rhm(Parse(spec));

    public static RhmConfig Parse(Spec spec)
    {
        int v = (int)spec.Integer("v", 8, 2, 1 << 16);
        int s = (int)spec.Integer("s", 2, 2, 64);
        int depth = (int)spec.Integer("L", 2, 1, 24);
        int m = (int)spec.Integer("m", 4, 1, 1 << 20);
        int nc = (int)spec.Integer("n_classes", v, 1, 1 << 20);
        BigInteger tuples = BigInteger.Pow(v, s);
        if ((BigInteger)m * nc > tuples)
            throw new SpecException($"key 'm': m·n_classes = {(long)m * nc} exceeds v^s = {tuples} "
                + $"distinct {s}-tuples (rules would be ambiguous)");
        if (depth >= 2 && (BigInteger)m * v > tuples)
            throw new SpecException($"key 'm': m·v = {(long)m * v} exceeds v^s = {tuples} (need m <= v^(s-1))");
        if (BigInteger.Pow(s, depth) > 1 << 16)
            throw new SpecException(
                $"key 'L': input length s^L = {BigInteger.Pow(s, depth)} is too long (at most 65536)");
        long seed = spec.Integer("seed", 0, 0);
        long initSeed = spec.Integer("init_seed", seed, 0);
        double alpha = spec.PositiveNumber("alpha", 1);
        int width = (int)spec.Integer("width", 256, 1, 1 << 16);
        var learner = spec.String("learner", "mlp", "mlp", "cnn") == "cnn" ? RhmLearner.Cnn : RhmLearner.Mlp;
        // The CNN's depth is fixed by the grammar (one conv layer per level, L), so a `depth` key
        // with it would be silently ignored: refuse it instead.
        if (learner == RhmLearner.Cnn && spec.Has("depth"))
            throw new SpecException("key 'depth' is for learner mlp only; learner cnn has L conv layers "
                + "(one per level of the hierarchy): remove 'depth'");
        int hidden = learner == RhmLearner.Cnn ? 2 : (int)spec.Integer("depth", 2, 1, 64);
        double lr = spec.PositiveNumber("lr", 1e-3);
        double wd = spec.Number("weight_decay", 0);
        if (!(wd >= 0)) throw new SpecException($"key 'weight_decay' must be >= 0, got {wd:R}");
        long steps = spec.Integer("steps", 1000, 0);
        int batch = (int)spec.Integer("batch_size", 0, 0, int.MaxValue);

        // P_max = n_c·m^((s^L − 1)/(s − 1)) distinct inputs.
        int internalNodes = (int)((BigInteger.Pow(s, depth) - 1) / (s - 1));
        BigInteger pMax = nc * BigInteger.Pow(m, internalNodes);
        int[] sizes;
        if (spec.Has("train_sizes"))
        {
            var raw = spec.Vector("train_sizes");
            sizes = raw.Select((x, i) => x == Math.Floor(x) && x >= 1 && x < (double)pMax && x <= 1 << 24 ? (int)x
                : throw new SpecException($"key 'train_sizes'[{i}] must be an integer in [1, min(P_max - 1, 2^24)] "
                    + $"(P_max = {pMax}), got {x}")).Distinct().Order().ToArray();
        }
        else
        {
            long lo = 2L * nc;
            long hi = (long)BigInteger.Min(pMax / 2, 4096);
            if (hi < lo)
                throw new SpecException($"key 'train_sizes': the default grid 2·n_classes = {lo} .. "
                    + $"min(P_max/2, 4096) = {hi} is empty (P_max = {pMax}); give train_sizes");
            sizes = SampleComplexity.GeometricGrid(lo, hi, 6).Select(x => (int)x).ToArray();
        }
        int testSize = (int)spec.Integer("test_size", 1000, 1, 1 << 24);
        testSize = (int)BigInteger.Min(testSize, pMax - sizes.Max());
        double target = spec.PositiveNumber("target_accuracy", 0.9);
        if (target > 1) throw new SpecException($"key 'target_accuracy' must be in (0, 1], got {target:R}");
        // Saved after each size; within one only when checkpoint_every asks.
        var common = spec.Common(KindName, RunsOnCuda, steps, "float32", 0);
        var config = new RhmConfig
        {
            V = v, S = s, L = depth, M = m, Classes = nc,
            Seed = (ulong)seed,
            InitSeed = (ulong)initSeed,
            Alpha = alpha,
            Width = width,
            Learner = learner,
            HiddenLayers = hidden,
            Lr = lr,
            WeightDecay = wd,
            Steps = steps,
            BatchSize = batch,
            TrainSizes = sizes,
            TestSize = testSize,
            TargetAccuracy = target,
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
        using var trainer = new RhmTrainer(config)
        {
            Log = log,
            RowReady = rowReady is null ? null : row => rowReady(ToJson(row)),
            Progress = log is null ? null : (k, step, loss) => log(
                $"rhm: size {config.TrainSizes[k]} ({k + 1}/{config.TrainSizes.Length}), "
                + $"step {step}/{config.Steps}, train loss {loss:G4}"),
        };
        return trainer.Run(cancellationToken).Select(ToJson).ToList();
    }

    public static JsonObject ToJson(RhmRow r) => new()
    {
        ["step"] = r.Step,
        ["train_size"] = r.TrainSize,
        ["train_loss"] = Json.Number(r.TrainLoss),
        ["train_accuracy"] = Json.Number(r.TrainAccuracy),
        ["test_loss"] = Json.Number(r.TestLoss),
        ["test_accuracy"] = Json.Number(r.TestAccuracy),
        ["sample_complexity"] = r.SampleComplexity is { } sc ? JsonValue.Create(sc) : null,
        ["sample_complexity_interpolated"] = r.SampleComplexityInterpolated is { } si ? JsonValue.Create(si) : null,
        ["status"] = r.Status,
        ["resumed_from_step"] = r.ResumedFromStep,
    };
}
