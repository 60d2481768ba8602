using System.Text.Json.Nodes;
using RichLazyOrleans.Theory;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// `teacher-student`: full-batch gradient descent of the two-layer ReLU student on a ReLU teacher
/// (SCIENCE.md §3), with the paper's metrics at each checkpoint, resumable from saved states.
/// </summary>
public sealed class TeacherStudentRun : IRunKind
{
    private const string KindName = "teacher-student";
    private const bool RunsOnCuda = true;
    public string Name => KindName;
    public IReadOnlyDictionary<string, (double Min, double Max)> Metrics { get; } =
        new Dictionary<string, (double, double)>
        {
            ["train_loss"] = (0, double.PositiveInfinity), ["test_loss"] = (0, double.PositiveInfinity),
            ["kernel_distance"] = (0, 1), ["hamming_distance"] = (0, double.PositiveInfinity),
            ["parameter_distance"] = (0, double.PositiveInfinity), ["delta_drift"] = (0, double.PositiveInfinity),
        };
    public IReadOnlySet<string> AxisParameters { get; } =
        new HashSet<string> { "tau", "delta", "alpha", "lr", "base_lr", "divergence_loss" };
    public bool HasSeed => true;
    public bool Resumable => true;
    public bool Cuda => RunsOnCuda;
    public IReadOnlyList<PathKey> PathKeys { get; } =
    [
        .. TrainingKeys.PathKeys,
        .. new[] { "inputs", "targets", "test_inputs", "test_targets", "init_w", "init_a" }
            .Select(k => new PathKey(k, PathUse.Read)),
    ];
    public string Summary => "full-batch GD of a two-layer ReLU student on a ReLU teacher (the paper's Figure 1)";
    public IReadOnlyList<SpecKey> Keys { get; } =
    [
        new("tau", SpecKey.Required, "τ > 0, init scale: each unit starts with ‖w_k‖ = τα, |a_k| = τ/α"),
        new("delta", "required (or alpha)", "δ = a_k² − ‖w_k‖² of every unit at init (any real)"),
        new("alpha", SpecKey.Optional, "α > 0, instead of delta"),
        new("seed", "0", "integer ≥ 0: training data, teacher and init"),
        new("test_seed", "20240607", "integer ≥ 0: the test inputs (fixed, so seeds share one test set)"),
        new("n", "1000", "training inputs, uniform on the unit sphere, integer in [1, 10⁷]"),
        new("d", "100", "input dimension, integer in [1, 10⁶]"),
        new("m", "50", "student width, integer in [1, 10⁶], even for the symmetrised init"),
        new("m0", "3", "teacher width, integer in [1, 10⁶]"),
        new("n_test", "10000", "test inputs, integer in [1, 10⁷]"),
        new("base_lr", "5e-3", "> 0: the step is lr = base_lr/τ²"),
        new("lr", SpecKey.Optional, "> 0, the step itself (instead of base_lr)"),
        new("steps", "1000000", "gradient-descent steps, integer ≥ 0"),
        TrainingKeys.CheckpointsKey,
        new("inputs", SpecKey.Optional, "path of a .npy n×d array replacing the generated training inputs"),
        new("targets", SpecKey.Optional, "path of a .npy array of n training targets"),
        new("test_inputs", SpecKey.Optional, "path of a .npy n_test×d array of test inputs"),
        new("test_targets", SpecKey.Optional, "path of a .npy array of n_test test targets"),
        new("init_w", SpecKey.Optional, "path of a .npy m×d array: the student's initial first layer"),
        new("init_a", SpecKey.Optional, "path of a .npy array of m initial read-out weights"),
        .. TrainingKeys.CommonKeys(RunsOnCuda, "float64", 10_000),
        .. TrainingKeys.StopKeys,
    ];

    public void Validate(Spec spec) => Parse(spec);

    public double MemoryBytes(Spec spec) => RunMemory.TeacherStudent(Parse(spec));

    public static TeacherStudentConfig Parse(Spec spec)
    {
        double tau = spec.PositiveNumber("tau");
        double alpha = SingleNeuronInit.Alpha(spec, tau);
        long steps = spec.Integer("steps", 1_000_000, 0);
        long[] checkpoints = spec.Checkpoints(steps);
        if (spec.Has("lr") && spec.Has("base_lr")) throw new SpecException("give either 'lr' or 'base_lr', not both");
        double lr = spec.Has("lr") ? spec.PositiveNumber("lr") : spec.PositiveNumber("base_lr", 5e-3) / (tau * tau);
        var common = spec.Common(KindName, RunsOnCuda, steps, "float64", 10_000);
        var config = new TeacherStudentConfig
        {
            Tau = tau,
            Alpha = alpha,
            Seed = (ulong)spec.Integer("seed", 0, 0),
            TestSeed = (ulong)spec.Integer("test_seed", 20240607, 0),
            N = (int)spec.Integer("n", 1000, 1, 10_000_000),
            D = (int)spec.Integer("d", 100, 1, 1_000_000),
            M = (int)spec.Integer("m", 50, 1, 1_000_000),
            M0 = (int)spec.Integer("m0", 3, 1, 1_000_000),
            NTest = (int)spec.Integer("n_test", 10000, 1, 10_000_000),
            Lr = lr,
            Steps = steps,
            Checkpoints = checkpoints,
            Float32 = common.Float32,
            Device = common.Device,
            Threads = common.Threads,
            DivergenceLoss = common.DivergenceLoss,
            Inputs = spec.OptionalString("inputs"),
            Targets = spec.OptionalString("targets"),
            TestInputs = spec.OptionalString("test_inputs"),
            TestTargets = spec.OptionalString("test_targets"),
            InitW = spec.OptionalString("init_w"),
            InitA = spec.OptionalString("init_a"),
            CheckpointEvery = common.CheckpointEvery,
            CheckpointDir = common.CheckpointDir,
            Stop = spec.StopRule(steps, TeacherStudentTrainer.MetricNames),
        };
        spec.RejectUnknownKeys();
        // Checked here, not only when the init is built, so a sweep refuses it before any run starts.
        if (config.InitW is null && config.M % 2 != 0)
            throw new SpecException($"key 'm': the symmetrised init needs an even m, got {config.M}");
        return config;
    }

    public IReadOnlyList<JsonObject> Run(Spec spec, Action<string>? log = null, Action<JsonObject>? rowReady = null,
        CancellationToken cancellationToken = default)
    {
        var config = Parse(spec);
        var data = TeacherStudentData.Create(config);
        using var trainer = new TeacherStudentTrainer(config, data)
        {
            Log = log,
            RowReady = rowReady is null ? null : row => rowReady(ToJson(row)),
            Progress = TrainingKeys.StepProgress(log, "teacher-student", config.Steps),
        };
        return trainer.Run(cancellationToken).Select(ToJson).ToList();
    }

    public static JsonObject ToJson(TeacherStudentRow r) => new()
    {
        ["step"] = r.Step,
        ["train_loss"] = Json.Number(r.TrainLoss),
        ["test_loss"] = Json.Number(r.TestLoss),
        ["kernel_distance"] = Json.Number(r.KernelDistance),
        ["hamming_distance"] = Json.Number(r.HammingDistance),
        ["parameter_distance"] = Json.Number(r.ParameterDistance),
        ["delta_drift"] = Json.Number(r.DeltaDrift),
        ["status"] = r.Status,
        ["resumed_from_step"] = r.ResumedFromStep,
    };
}
