namespace RichLazyOrleans.Training;

/// <summary>Which network learns the random hierarchy model.</summary>
public enum RhmLearner
{
    /// <summary>A ReLU MLP on the flattened one-hot input (<see cref="RhmConfig.HiddenLayers"/> hidden layers).
    /// </summary>
    Mlp,
    /// <summary>
    /// The hierarchical CNN of Cagnetta et al. (2024): L conv layers of kernel size s and stride s
    /// (non-overlapping patches, so each layer shrinks the length by s, down to 1), ReLU, then a
    /// linear readout.
    /// </summary>
    Cnn,
}

/// <summary>
/// A fully resolved `rhm` run (issue 6 item 2): a ReLU MLP or a hierarchical CNN learns the random
/// hierarchy model's class from the one-hot input, once per training-set size; the first layer's
/// init is divided by α.
/// </summary>
public sealed record RhmConfig
{
    public int V { get; init; } = 8;
    public int S { get; init; } = 2;
    public int L { get; init; } = 2;
    public int M { get; init; } = 4;
    public int Classes { get; init; } = 8;
    /// <summary>Seed of the rules and of the train/test data.</summary>
    public ulong Seed { get; init; }
    /// <summary>Seed of the network init and the minibatch order.</summary>
    public ulong InitSeed { get; init; }
    public double Alpha { get; init; } = 1;
    public int Width { get; init; } = 256;
    public RhmLearner Learner { get; init; } = RhmLearner.Mlp;
    /// <summary>Hidden layers of the MLP; the CNN ignores it (it has L conv layers).</summary>
    public int HiddenLayers { get; init; } = 2;
    public double Lr { get; init; } = 1e-3;
    public double WeightDecay { get; init; }
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Eps { get; init; } = 1e-8;
    /// <summary>Gradient steps per training-set size.</summary>
    public long Steps { get; init; } = 1000;
    /// <summary>Examples per step; 0 (or ≥ the training size) = full batch.</summary>
    public int BatchSize { get; init; }
    /// <summary>Training-set sizes, ascending, distinct, each ≥ 1.</summary>
    public required int[] TrainSizes { get; init; }
    public int TestSize { get; init; } = 1000;
    public double TargetAccuracy { get; init; } = 0.9;
    public bool Float32 { get; init; } = true;
    public int Threads { get; init; } = 1;
    public double DivergenceLoss { get; init; } = 1e10;
    /// <summary>Steps between saved states within a size (0: only after each size).</summary>
    public long CheckpointEvery { get; init; }
    public string? CheckpointDir { get; init; }

    /// <summary>What determines the rows; device, threads and checkpointing are left out on purpose.</summary>
    public string Fingerprint() => string.Join(";",
        "rhm/1", V, S, L, M, Classes, Seed, InitSeed, Alpha.ToString("R"), Width, HiddenLayers, Lr.ToString("R"),
        WeightDecay.ToString("R"), Beta1.ToString("R"), Beta2.ToString("R"), Eps.ToString("R"), Steps, BatchSize,
        string.Join(",", TrainSizes), TestSize, TargetAccuracy.ToString("R"), Float32 ? "f32" : "f64",
        DivergenceLoss.ToString("R"))
        // Appended only for the CNN so every MLP fingerprint (and its saved states) stays as it was.
        + (Learner == RhmLearner.Cnn ? ";cnn" : "");
}

/// <summary>One row per training-set size (the `rhm` output contract); Step is the size's index.</summary>
public sealed record RhmRow(
    long Step, long TrainSize, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy,
    double? SampleComplexity, double? SampleComplexityInterpolated, string Status, long ResumedFromStep);
