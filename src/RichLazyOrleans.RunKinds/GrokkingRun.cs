using System.Text.Json.Nodes;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// `grokking`: a + b mod p learned by a one- or two-layer transformer with AdamW and weight decay,
/// its token embedding's init divided by α (SCIENCE.md §4), resumable from saved states.
/// </summary>
public sealed class GrokkingRun : IRunKind
{
    private const string KindName = "grokking";
    private const bool RunsOnCuda = true;
    public string Name => KindName;
    public IReadOnlyDictionary<string, (double Min, double Max)> Metrics { get; } =
        new Dictionary<string, (double, double)>
        {
            ["train_loss"] = (0, double.PositiveInfinity), ["val_loss"] = (0, double.PositiveInfinity),
            ["train_accuracy"] = (0, 1), ["val_accuracy"] = (0, 1), ["steps_to_grok"] = (0, double.PositiveInfinity),
        };
    public IReadOnlySet<string> AxisParameters { get; } =
        new HashSet<string> { "alpha", "lr", "weight_decay", "train_fraction", "beta1", "beta2" };
    public bool HasSeed => true;
    public bool Resumable => true;
    public bool Cuda => RunsOnCuda;
    public IReadOnlyList<PathKey> PathKeys => TrainingKeys.PathKeys;
    public string Summary => "a + b mod p by a 1-2 layer transformer with AdamW, embedding init / alpha; "
        + "steps_to_grok = first evaluated step with val accuracy >= grok_accuracy";
    public IReadOnlyList<SpecKey> Keys { get; } =
    [
        new("p", "97", "the modulus, integer in [2, 2000]; all p² pairs (a, b) are the data"),
        new("train_fraction", "0.3", "share of the p² pairs used for training, in (0, 1); the rest validate"),
        new("seed", "0", "integer ≥ 0: the init"),
        new("data_seed", "= seed", "integer ≥ 0: the train/validation split"),
        new("alpha", "1", "> 0: the token embedding's init is divided by α (α > 1 upstream)"),
        new("layers", "1", "transformer layers, 1 or 2"),
        new("d_model", "128", "model width, integer in [1, 65536]"),
        new("heads", "4", "attention heads, must divide d_model"),
        new("d_mlp", "512", "MLP hidden width, integer ≥ 1"),
        new("layer_norm", "none", "none | pre (pre-LayerNorm)"),
        new("lr", "1e-3", "AdamW learning rate, > 0"),
        new("weight_decay", "1", "AdamW decoupled weight decay, ≥ 0"),
        new("beta1", "0.9", "AdamW β₁, in [0, 1)"),
        new("beta2", "0.98", "AdamW β₂, in [0, 1)"),
        new("eps", "1e-8", "AdamW ε, > 0"),
        new("batch_size", "0", "minibatch size, integer ≥ 0 (0: full batch)"),
        new("steps", "10000", "optimiser steps, integer ≥ 0"),
        TrainingKeys.CheckpointsKey,
        new("eval_every", "0", "also evaluate every K steps for steps_to_grok (0: at checkpoints only)"),
        new("grok_accuracy", "0.99", "validation accuracy that counts as grokked, in (0, 1]"),
        .. TrainingKeys.CommonKeys(RunsOnCuda, "float32", 10_000),
    ];

    public void Validate(Spec spec) => Parse(spec);

    public double MemoryBytes(Spec spec) => RunMemory.Grokking(Parse(spec));

    public static GrokkingConfig Parse(Spec spec)
    {
        int p = (int)spec.Integer("p", 97, 2, 2000);
        double fraction = spec.PositiveNumber("train_fraction", 0.3);
        if (fraction >= 1) throw new SpecException($"key 'train_fraction' must be in (0, 1), got {fraction:R}");
        int nTrain = ModularData.TrainSize(p, fraction);
        if (nTrain < 1 || nTrain >= p * p)
            throw new SpecException($"key 'train_fraction': {fraction:R} of p² = {p * p} gives {nTrain} "
                + $"training pairs; need at least 1 and fewer than {p * p}");
        long seed = spec.Integer("seed", 0, 0);
        long dataSeed = spec.Integer("data_seed", seed, 0);
        double alpha = spec.PositiveNumber("alpha", 1);
        int layers = (int)spec.Integer("layers", 1, 1, 2);
        int dModel = (int)spec.Integer("d_model", 128, 1, 65536);
        int heads = (int)spec.Integer("heads", 4, 1, 65536);
        if (dModel % heads != 0) throw new SpecException($"key 'heads' must divide d_model = {dModel}, got {heads}");
        int dMlp = (int)spec.Integer("d_mlp", 512, 1, 1 << 20);
        bool layerNorm = spec.String("layer_norm", "none", "none", "pre") == "pre";
        double lr = spec.PositiveNumber("lr", 1e-3);
        double wd = spec.Number("weight_decay", 1.0);
        if (wd < 0) throw new SpecException($"key 'weight_decay' must be >= 0, got {wd:R}");
        double beta1 = spec.Number("beta1", 0.9), beta2 = spec.Number("beta2", 0.98);
        if (!(beta1 >= 0 && beta1 < 1)) throw new SpecException($"key 'beta1' must be in [0, 1), got {beta1:R}");
        if (!(beta2 >= 0 && beta2 < 1)) throw new SpecException($"key 'beta2' must be in [0, 1), got {beta2:R}");
        double eps = spec.PositiveNumber("eps", 1e-8);
        int batch = (int)spec.Integer("batch_size", 0, 0, int.MaxValue);
        long steps = spec.Integer("steps", 10_000, 0);
        long[] checkpoints = spec.Checkpoints(steps);
        long evalEvery = spec.Integer("eval_every", 0, 0);
        double grokAccuracy = spec.PositiveNumber("grok_accuracy", 0.99);
        if (grokAccuracy > 1) throw new SpecException($"key 'grok_accuracy' must be in (0, 1], got {grokAccuracy:R}");
        var common = spec.Common(KindName, RunsOnCuda, steps, "float32", 10_000);
        var config = new GrokkingConfig
        {
            P = p,
            TrainFraction = fraction,
            Seed = (ulong)seed,
            DataSeed = (ulong)dataSeed,
            Alpha = alpha,
            Layers = layers,
            DModel = dModel,
            Heads = heads,
            DMlp = dMlp,
            LayerNorm = layerNorm,
            Lr = lr,
            WeightDecay = wd,
            Beta1 = beta1,
            Beta2 = beta2,
            Eps = eps,
            BatchSize = batch,
            Steps = steps,
            Checkpoints = checkpoints,
            EvalEvery = evalEvery,
            GrokAccuracy = grokAccuracy,
            Float32 = common.Float32,
            Device = common.Device,
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
        using var trainer = new GrokkingTrainer(config)
        {
            Log = log,
            RowReady = rowReady is null ? null : row => rowReady(ToJson(row)),
            Progress = TrainingKeys.StepProgress(log, "grokking", config.Steps),
        };
        return trainer.Run(cancellationToken).Select(ToJson).ToList();
    }

    public static JsonObject ToJson(GrokkingRow r) => new()
    {
        ["step"] = r.Step,
        ["train_loss"] = Json.Number(r.TrainLoss),
        ["val_loss"] = Json.Number(r.ValLoss),
        ["train_accuracy"] = Json.Number(r.TrainAccuracy),
        ["val_accuracy"] = Json.Number(r.ValAccuracy),
        ["steps_to_grok"] = r.StepsToGrok is { } s ? JsonValue.Create(s) : null,
        ["status"] = r.Status,
        ["resumed_from_step"] = r.ResumedFromStep,
    };
}
