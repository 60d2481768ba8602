namespace RichLazyOrleans.Training;

/// <summary>
/// A fully resolved grokking run (SCIENCE.md §4): a + b mod p learned by a small transformer with
/// AdamW, its token embedding's init divided by α.
/// </summary>
public sealed record GrokkingConfig
{
    public int P { get; init; } = 97;
    public double TrainFraction { get; init; } = 0.3;
    /// <summary>Seed of the model init and the minibatch order.</summary>
    public ulong Seed { get; init; }
    /// <summary>Seed of the train/validation split (the spec's `data_seed`, `seed` by default).</summary>
    public ulong DataSeed { get; init; }
    /// <summary>The token embedding's init is divided by α (α &gt; 1: smaller embedding, "upstream").</summary>
    public double Alpha { get; init; } = 1;
    public int Layers { get; init; } = 1;
    public int DModel { get; init; } = 128;
    public int Heads { get; init; } = 4;
    public int DMlp { get; init; } = 512;
    /// <summary>
    /// Pre-LN blocks (and a final LayerNorm) when true; no normalisation (Nanda et al. 2023) when false.
    /// </summary>
    public bool LayerNorm { get; init; }
    public double Lr { get; init; } = 1e-3;
    public double WeightDecay { get; init; } = 1.0;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.98;
    public double Eps { get; init; } = 1e-8;
    /// <summary>Examples per step; 0 = the whole training set (full batch).</summary>
    public int BatchSize { get; init; }
    public long Steps { get; init; } = 10_000;
    /// <summary>Steps at which a row is reported, ascending, each in [0, Steps].</summary>
    public required long[] Checkpoints { get; init; }
    /// <summary>
    /// Validation accuracy is also measured every this many steps, for steps_to_grok (0: at checkpoints only).
    /// </summary>
    public long EvalEvery { get; init; }
    public bool Float32 { get; init; } = true;
    public string Device { get; init; } = "cpu";
    public int Threads { get; init; } = 1;
    public double DivergenceLoss { get; init; } = 1e10;
    /// <summary>Steps between saved states (0: never).</summary>
    public long CheckpointEvery { get; init; }
    public string? CheckpointDir { get; init; }

    /// <summary>Validation accuracy at or above this is "grokked" (steps_to_grok).</summary>
    public double GrokAccuracy { get; init; } = 0.99;

    public int Vocab => P + 1;
    public int HeadDim => DModel / Heads;

    /// <summary>
    /// Everything that determines the trajectory, as text: a saved state is only resumed by a run
    /// with the same fingerprint. Device and thread count are left out on purpose.
    /// </summary>
    public string Fingerprint() => string.Join(";",
        "grokking/1", P, TrainFraction.ToString("R"), Seed, DataSeed, Alpha.ToString("R"), Layers, DModel, Heads, DMlp,
        LayerNorm, Lr.ToString("R"), WeightDecay.ToString("R"), Beta1.ToString("R"), Beta2.ToString("R"),
        Eps.ToString("R"), BatchSize, Steps, string.Join(",", Checkpoints), EvalEvery, GrokAccuracy.ToString("R"),
        Float32 ? "f32" : "f64", DivergenceLoss.ToString("R"));
}

/// <summary>One row per checkpoint (the `grokking` output contract).</summary>
public sealed record GrokkingRow(
    long Step, double TrainLoss, double ValLoss, double TrainAccuracy, double ValAccuracy,
    long? StepsToGrok, string Status, long ResumedFromStep) : ITrainingRow<GrokkingRow>
{
    public GrokkingRow WithResumedFrom(long step) => this with { ResumedFromStep = step };
}

/// <summary>
/// All p² equations a + b = c (mod p), split into train and validation by a seeded permutation:
/// the first round(fraction·p²) of the permuted pairs train, the rest validate. Pair (a, b) has
/// index a·p + b.
/// </summary>
public sealed record ModularData(int P, int[] TrainA, int[] TrainB, int[] TrainC, int[] ValA, int[] ValB, int[] ValC)
{
    public static int TrainSize(int p, double fraction) =>
        (int)Math.Round(fraction * p * p, MidpointRounding.AwayFromZero);

    public static ModularData Create(int p, double fraction, ulong dataSeed)
    {
        int total = p * p, nTrain = TrainSize(p, fraction);
        if (nTrain < 1 || nTrain >= total)
            throw new SpecException("train_fraction",
                $"{fraction:R} of p² = {total} gives {nTrain} training pairs; need at least 1 and fewer than {total}");
        var perm = Enumerable.Range(0, total).ToArray();
        var rng = new Rng(dataSeed, 1);
        for (int i = total - 1; i > 0; i--)   // Fisher-Yates
        {
            int j = (int)(rng.NextUInt64() % (ulong)(i + 1));
            (perm[i], perm[j]) = (perm[j], perm[i]);
        }
        int[] A(int from, int to) => perm[from..to].Select(k => k / p).ToArray();
        int[] B(int from, int to) => perm[from..to].Select(k => k % p).ToArray();
        int[] C(int from, int to) => perm[from..to].Select(k => (k / p + k % p) % p).ToArray();
        return new ModularData(p, A(0, nTrain), B(0, nTrain), C(0, nTrain), A(nTrain, total), B(nTrain, total),
            C(nTrain, total));
    }
}
