namespace RichLazyOrleans.Training;

/// <summary>
/// A fully resolved teacher-student run (SCIENCE.md §3). Defaults are the paper's protocol.
/// </summary>
public sealed record TeacherStudentConfig
{
    public required double Tau { get; init; }
    /// <summary>Hidden units start with ‖w_k‖ = τα, |a_k| = τ/α.</summary>
    public required double Alpha { get; init; }
    public double Delta => Tau * Tau * (1 / (Alpha * Alpha) - Alpha * Alpha);
    public ulong Seed { get; init; }
    /// <summary>Seed of the test inputs: fixed across runs so test losses compare.</summary>
    public ulong TestSeed { get; init; } = 20240607;
    public int N { get; init; } = 1000;
    public int D { get; init; } = 100;
    public int M { get; init; } = 50;
    public int M0 { get; init; } = 3;
    public int NTest { get; init; } = 10000;
    /// <summary>The step size used for both layers (base_lr/τ² unless given).</summary>
    public required double Lr { get; init; }
    public long Steps { get; init; } = 1_000_000;
    /// <summary>Steps at which metrics are reported, ascending, each in [0, Steps].</summary>
    public required long[] Checkpoints { get; init; }
    public bool Float32 { get; init; }
    public string Device { get; init; } = "cpu";
    public int Threads { get; init; } = 1;
    /// <summary>A run whose training loss exceeds this (or is not finite) is stopped as diverged.</summary>
    public double DivergenceLoss { get; init; } = 1e10;
    public string? Inputs { get; init; }
    public string? Targets { get; init; }
    public string? TestInputs { get; init; }
    public string? TestTargets { get; init; }
    public string? InitW { get; init; }
    public string? InitA { get; init; }
    /// <summary>Steps between saved states (0: never).</summary>
    public long CheckpointEvery { get; init; }
    public string? CheckpointDir { get; init; }
    /// <summary>`stop: converged`: end early once no metric can change beyond tolerance (null: all steps).</summary>
    public ConvergenceRule? Stop { get; init; }

    /// <summary>The default metric checkpoints: 0, 10, 100, … up to and including <paramref name="steps"/>.</summary>
    public static long[] DecadeCheckpoints(long steps)
    {
        var list = new List<long> { 0 };
        for (long s = 10; s < steps; s *= 10) list.Add(s);
        if (steps > 0) list.Add(steps);
        return list.ToArray();
    }

    /// <summary>
    /// Everything that determines the trajectory, as text: a saved state is only resumed by a run
    /// with the same fingerprint. Device and thread count are left out on purpose.
    /// </summary>
    public string Fingerprint() => string.Join(";",
        "teacher-student/1", Tau.ToString("R"), Alpha.ToString("R"), Seed, TestSeed, N, D, M, M0, NTest,
        Lr.ToString("R"), Steps, string.Join(",", Checkpoints), Float32 ? "f32" : "f64", DivergenceLoss.ToString("R"),
        Inputs ?? "", Targets ?? "", TestInputs ?? "", TestTargets ?? "", InitW ?? "", InitA ?? "")
        + (Stop is null ? "" : ";" + Stop.Fingerprint());   // runs without early stopping keep their old states
}

/// <summary>One row per metric checkpoint (the `teacher-student` output contract).</summary>
public sealed record TeacherStudentRow(
    long Step, double TrainLoss, double TestLoss, double KernelDistance, double HammingDistance,
    double ParameterDistance, double DeltaDrift, string Status, long ResumedFromStep) : ITrainingRow<TeacherStudentRow>
{
    public TeacherStudentRow WithResumedFrom(long step) => this with { ResumedFromStep = step };
}

/// <summary>Data, teacher and student init of one run, row-major float64 arrays.</summary>
public sealed record TeacherStudentData(int N, int D, int M, int NTest, double[] X, double[] Y, double[] XTest,
    double[] YTest, double[] W0, double[] A0)
{
    /// <summary>
    /// Generates the protocol's data, or reads the .npy files the config names instead.
    /// Inputs uniform on S^{d−1}; teacher y = Σ_j s_j relu(u_jᵀx) with m₀ rows u_j on the sphere
    /// and signs s_j = ±1; student symmetrised: units k &lt; m/2 get w_k = τα·u_k and a_k = ±τ/α,
    /// unit k + m/2 copies w_k with −a_k, so f(·; θ₀) ≡ 0 and a_k² − ‖w_k‖² = δ for every k.
    /// Streams: teacher (seed, 1), train inputs (seed, 2), test inputs (test_seed, 3), init (seed, 4).
    /// </summary>
    public static TeacherStudentData Create(TeacherStudentConfig c)
    {
        int n = c.N, d = c.D, m = c.M, nt = c.NTest;
        var x = LoadOrNull(c.Inputs, "inputs", 2);
        var y = LoadOrNull(c.Targets, "targets", 1);
        var xt = LoadOrNull(c.TestInputs, "test_inputs", 2);
        var yt = LoadOrNull(c.TestTargets, "test_targets", 1);
        var w0 = LoadOrNull(c.InitW, "init_w", 2);
        var a0 = LoadOrNull(c.InitA, "init_a", 1);
        // Shapes given by files win over the spec's sizes, but must agree with each other.
        if (x is not null) { n = (int)x.Shape[0]; d = (int)x.Shape[1]; }
        if (xt is not null)
        {
            nt = (int)xt.Shape[0];
            Check(xt.Shape[1] == d, "test_inputs", $"has {xt.Shape[1]} columns but inputs have d = {d}");
        }
        if (w0 is not null)
        {
            m = (int)w0.Shape[0];
            Check(w0.Shape[1] == d, "init_w", $"has {w0.Shape[1]} columns but d = {d}");
        }
        if (y is not null) Check(y.Shape[0] == n, "targets", $"has {y.Shape[0]} entries but there are n = {n} inputs");
        if (yt is not null)
            Check(yt.Shape[0] == nt, "test_targets", $"has {yt.Shape[0]} entries but there are {nt} test inputs");
        if (a0 is not null) Check(a0.Shape[0] == m, "init_a", $"has {a0.Shape[0]} entries but m = {m}");
        if ((w0 is null) != (a0 is null))
            throw new SpecException(w0 is null ? "init_w" : "init_a", "init_w and init_a must be given together");
        if (w0 is null && m % 2 != 0) throw new SpecException("m", $"the symmetrised init needs an even m, got {m}");
        foreach (var (arr, key) in new[] { (x, "inputs"), (y, "targets"), (xt, "test_inputs"), (yt, "test_targets"),
            (w0, "init_w"), (a0, "init_a") })
            if (arr is not null && arr.Data.Any(v => !double.IsFinite(v)))
                throw new SpecException(key, "contains NaN or infinite values");

        // Teacher (needed unless both target arrays are given).
        var teacherRng = new Rng(c.Seed, 1);
        var u = new double[c.M0 * d];
        var s = new double[c.M0];
        for (int j = 0; j < c.M0; j++) { teacherRng.NextOnSphere(u.AsSpan(j * d, d)); s[j] = teacherRng.NextSign(); }
        double[] Teach(double[] inputs, int rows)
        {
            var t = new double[rows];
            for (int i = 0; i < rows; i++)
            {
                double f = 0;
                for (int j = 0; j < c.M0; j++)
                {
                    double z = 0;
                    for (int k = 0; k < d; k++) z += u[j * d + k] * inputs[i * d + k];
                    if (z > 0) f += s[j] * z;
                }
                t[i] = f;
            }
            return t;
        }
        double[] Sphere(Rng r, int rows)
        {
            var a = new double[rows * d];
            for (int i = 0; i < rows; i++) r.NextOnSphere(a.AsSpan(i * d, d));
            return a;
        }
        var xs = x?.Data ?? Sphere(new Rng(c.Seed, 2), n);
        var xts = xt?.Data ?? Sphere(new Rng(c.TestSeed, 3), nt);
        var ys = y?.Data ?? Teach(xs, n);
        var yts = yt?.Data ?? Teach(xts, nt);

        double[] ws, avec;
        if (w0 is not null) { ws = w0.Data; avec = a0!.Data; }
        else
        {
            var r = new Rng(c.Seed, 4);
            ws = new double[m * d];
            avec = new double[m];
            int half = m / 2;
            for (int k = 0; k < half; k++)
            {
                r.NextOnSphere(ws.AsSpan(k * d, d));
                for (int i = 0; i < d; i++) ws[k * d + i] *= c.Tau * c.Alpha;
                avec[k] = r.NextSign() * c.Tau / c.Alpha;
                Array.Copy(ws, k * d, ws, (k + half) * d, d);
                avec[k + half] = -avec[k];
            }
        }
        return new TeacherStudentData(n, d, m, nt, xs, ys, xts, yts, ws, avec);
    }

    private static void Check(bool ok, string key, string message)
    {
        if (!ok) throw new SpecException(key, message);
    }

    private static NpyArray? LoadOrNull(string? path, string key, int rank)
    {
        if (path is null) return null;
        NpyArray a;
        try { a = Npy.Read(path); }
        catch (NpyFormatException e) { throw new SpecException(key, e.Message); }
        if (a.Shape.Length != rank)
            throw new SpecException(key,
                $"'{path}' must be {rank}-dimensional, got shape ({string.Join(", ", a.Shape)})");
        if (a.Shape.Any(s => s <= 0)) throw new SpecException(key, $"'{path}' is empty");
        return a;
    }
}
