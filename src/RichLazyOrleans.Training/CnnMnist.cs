namespace RichLazyOrleans.Training;

/// <summary>
/// A fully resolved `cnn-mnist` run (issue 6 item 1; SCIENCE.md §4): a two-conv-layer CNN trained
/// by SGD on MNIST-format IDX files, the first conv layer's init divided by α.
/// </summary>
public sealed record CnnMnistConfig
{
    public required string TrainImages { get; init; }
    public required string TrainLabels { get; init; }
    public required string TestImages { get; init; }
    public required string TestLabels { get; init; }
    /// <summary>Use the first this many training examples (null: all in the file).</summary>
    public int? TrainSize { get; init; }
    /// <summary>Use the first this many test examples (null: all).</summary>
    public int? TestSize { get; init; }
    /// <summary>Seed of the init and of the minibatch order.</summary>
    public ulong Seed { get; init; }
    /// <summary>
    /// The first conv layer's init is divided by α (α &gt; 1 "upstream": smaller first-layer filters).
    /// </summary>
    public double Alpha { get; init; } = 1;
    public int Channels1 { get; init; } = 16;
    public int Channels2 { get; init; } = 32;
    /// <summary>Square kernel size of both conv layers (odd; "same" padding).</summary>
    public int Kernel { get; init; } = 5;
    public int Classes { get; init; } = 10;
    public double Lr { get; init; } = 0.05;
    public double Momentum { get; init; }
    public double WeightDecay { get; init; }
    public int BatchSize { get; init; } = 64;
    public long Steps { get; init; } = 2000;
    /// <summary>Steps at which a row is reported, ascending, each in [0, Steps].</summary>
    public required long[] Checkpoints { get; init; }
    /// <summary>Train loss/accuracy are measured on the first this many training examples (all when larger).</summary>
    public int EvalSize { get; init; } = 10_000;
    /// <summary>Examples (the first of the training set) whose empirical NTK is compared with step 0's.</summary>
    public int ProbeSize { get; init; } = 32;
    /// <summary>
    /// Low band of the filter smoothness score, as a fraction of Nyquist (<see cref="FilterSmoothness"/>).
    /// </summary>
    public double SmoothnessCutoff { get; init; } = FilterSmoothness.DefaultCutoff;
    /// <summary>Where to write a PNG of the first-layer filters at each checkpoint (null: none).</summary>
    public string? FiltersDir { get; init; }
    /// <summary>
    /// Whether <see cref="FiltersDir"/> may be shared by several runs (an explicit filters_dir in a
    /// sweep's params): the PNGs are then named filters-alphaA-seedS-HASH-STEP.png (HASH from the
    /// run's fingerprint) rather than filters-STEP.png, so runs never overwrite each other's.
    /// </summary>
    public bool FiltersShared { get; init; }
    public bool Float32 { get; init; } = true;
    public int Threads { get; init; } = 1;
    public double DivergenceLoss { get; init; } = 1e10;
    /// <summary>Steps between saved states (0: never).</summary>
    public long CheckpointEvery { get; init; }
    public string? CheckpointDir { get; init; }

    /// <summary>
    /// Everything that determines the rows, with the data identified by content (<paramref name="dataHash"/>),
    /// not by path: moved files still resume, changed files do not. Threads, device, the filters
    /// directory and checkpointing are left out on purpose.
    /// </summary>
    public string Fingerprint(string dataHash) => string.Join(";",
        "cnn-mnist/1", dataHash, Seed, Alpha.ToString("R"), Channels1, Channels2, Kernel, Classes, Lr.ToString("R"),
        Momentum.ToString("R"), WeightDecay.ToString("R"), BatchSize, Steps, string.Join(",", Checkpoints), EvalSize,
        ProbeSize, SmoothnessCutoff.ToString("R"),
        Float32 ? "f32" : "f64", DivergenceLoss.ToString("R"));
}

/// <summary>One row per checkpoint (the `cnn-mnist` output contract).</summary>
/// <param name="KernelDistance">1 − cos(K₀, K_t) of the empirical NTK (all parameters, all logits) on the probe
/// batch.</param>
/// <param name="ParameterDistance">‖θ_t − θ₀‖₂ over all parameters.</param>
/// <param name="FilterSmoothness">Mean low-frequency energy share of the first-layer filters
/// (<see cref="Training.FilterSmoothness.LayerScore"/>).</param>
public sealed record CnnMnistRow(
    long Step, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy,
    double KernelDistance, double ParameterDistance, double FilterSmoothness, string Status, long ResumedFromStep)
    : ITrainingRow<CnnMnistRow>
{
    public CnnMnistRow WithResumedFrom(long step) => this with { ResumedFromStep = step };
}
