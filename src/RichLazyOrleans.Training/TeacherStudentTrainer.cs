using TorchSharp;
using static TorchSharp.torch;

namespace RichLazyOrleans.Training;

/// <summary>
/// Full-batch gradient descent of the teacher-student ReLU network f(x) = Σ_k a_k relu(w_kᵀx) on
/// L = (1/n)Σ(f(x_i) − y_i)², same step for both layers (SCIENCE.md §3), on TorchSharp.
/// </summary>
/// <remarks>
/// The gradient is written out by hand instead of using autograd: with Z = XWᵀ, H = relu(Z),
/// r = Ha − y, it is ∇_a = (2/n)Hᵀr and ∇_W = (2/n)(1[Z &gt; 0] ∘ r aᵀ)ᵀX, so a step is the two
/// n×d×m matrix products plus O(nm) elementwise work, close to the GEMM bound. Metrics are
/// computed in float64 whatever the training dtype.
/// </remarks>
public sealed class TeacherStudentTrainer : ITrainingEngine<TeacherStudentRow>, IDisposable
{
    private readonly TeacherStudentConfig _c;
    private readonly TeacherStudentData _data;
    private readonly Device _device;
    private readonly ScalarType _dtype;
    private readonly Tensor _x, _y;                       // training inputs/targets, training dtype
    private readonly Tensor _x64, _y64, _xt64, _yt64;    // float64 copies for metrics
    private readonly Tensor _gram;                        // XXᵀ (n×n), float64
    private readonly Tensor _w064, _a064, _z0Positive, _delta0;
    private readonly Tensor _k0;                          // NTK at step 0, normalised to unit Frobenius norm
    private Tensor _w, _a;                                // parameters, training dtype
    private ConvergenceMonitor? _monitor;                 // `stop: converged`

    /// <summary>Diagnostics (resume, fallbacks), one line each.</summary>
    public Action<string>? Log { get; init; }
    /// <summary>Called with each metric row as soon as it is computed (on the training thread).</summary>
    public Action<TeacherStudentRow>? RowReady { get; init; }
    /// <summary>Called about every few seconds with (step, train loss).</summary>
    public Action<long, double>? Progress { get; init; }

    public TeacherStudentTrainer(TeacherStudentConfig config, TeacherStudentData data)
    {
        TorchRuntime.Probe(config.Threads);   // first: process-wide settings before any tensor
        _c = config;
        _data = data;
        _device = TorchRuntime.Device(config.Device);
        _dtype = config.Float32 ? ScalarType.Float32 : ScalarType.Float64;

        int n = data.N, d = data.D, m = data.M, nt = data.NTest;
        _x64 = torch.tensor(data.X, [n, d], ScalarType.Float64, _device);
        _y64 = torch.tensor(data.Y, [n], ScalarType.Float64, _device);
        _xt64 = torch.tensor(data.XTest, [nt, d], ScalarType.Float64, _device);
        _yt64 = torch.tensor(data.YTest, [nt], ScalarType.Float64, _device);
        _x = _x64.to_type(_dtype);
        _y = _y64.to_type(_dtype);
        _gram = _x64.mm(_x64.t());
        _w064 = torch.tensor(data.W0, [m, d], ScalarType.Float64, _device);
        _a064 = torch.tensor(data.A0, [m], ScalarType.Float64, _device);
        // clone(): to_type to the same dtype returns the same storage, and _w/_a are updated in place.
        _w = _w064.to_type(_dtype).clone();
        _a = _a064.to_type(_dtype).clone();
        using (torch.NewDisposeScope())
        {
            var z0 = _x64.mm(_w064.t());
            _z0Positive = z0.ge(0).MoveToOuterDisposeScope();
            _delta0 = (_a064.square() - _w064.square().sum(1)).MoveToOuterDisposeScope();
            var k0 = Ntk(z0, _a064);
            _k0 = (k0 / k0.norm()).MoveToOuterDisposeScope();
        }
    }

    /// <summary>
    /// K = ΦΦᵀ + (XXᵀ) ∘ (D diag(a²) Dᵀ), Φ = relu(Z), D = 1[Z ≥ 0] (SCIENCE.md §3): two n×m×n
    /// products, the rest in place (each fresh n×n buffer costs page faults at n = 1000).
    /// </summary>
    private Tensor Ntk(Tensor z, Tensor a)
    {
        var phi = z.relu();
        var dmask = z.ge(0).to_type(ScalarType.Float64);
        var k = phi.mm(phi.t());
        var t = (dmask * a.square()).mm(dmask.t());
        return k.add_(t.mul_(_gram));
    }

    /// <summary>
    /// Trains from the latest saved state (or step 0) to config.Steps, or until converged under config.Stop,
    /// returning one row per metric checkpoint, including those reported before a resume
    /// (<see cref="TrainingLoop{TRow}"/>).
    /// </summary>
    public IReadOnlyList<TeacherStudentRow> Run(CancellationToken cancellationToken = default)
    {
        string fingerprint = _c.Fingerprint();
        var schedule = new LoopSchedule("teacher-student", _c.Steps, _c.Checkpoints, _c.CheckpointEvery,
            _c.CheckpointDir, fingerprint);
        var loop = new TrainingLoop<TeacherStudentRow>(schedule)
        {
            Log = Log,
            RowReady = RowReady,
            Progress = Progress,
            LegacyState = _c.CheckpointDir is { } dir
                ? () => TeacherStudentStates.Legacy(dir, fingerprint, _data.M, _data.D, Log) : null,
        };
        return loop.Run(this, cancellationToken);
    }

    void ITrainingEngine<TeacherStudentRow>.Start(SavedState? saved, bool finished)
    {
        _monitor = _c.Stop is { } rule ? new ConvergenceMonitor(rule, _c.Stop.Metrics ?? ContinuousMetrics) : null;
        if (saved is null)
        {
            SetParameters(_data.W0, _data.A0);   // a second Run starts over, not from where the first ended
            return;
        }
        SetParameters(TeacherStudentStates.Array(saved, "w", _data.M * _data.D),
            TeacherStudentStates.Array(saved, "a", _data.M));
        _monitor?.Restore(saved.Arrays.GetValueOrDefault("stop_norms") ?? []);
    }

    IReadOnlyDictionary<string, double[]> ITrainingEngine<TeacherStudentRow>.Export()
    {
        var (w, a) = Parameters();
        return new Dictionary<string, double[]>
        {
            ["w"] = w, ["a"] = a, ["w0"] = _data.W0, ["a0"] = _data.A0, ["stop_norms"] = _monitor?.Save() ?? [],
        };
    }

    StepOutcome<TeacherStudentRow> ITrainingEngine<TeacherStudentRow>.Step(long step, bool report, bool last,
        long resumedFrom)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var z = _x.mm(_w.t());
        var h = z.relu();
        var r = h.mv(_a).sub_(_y);
        double loss = r.dot(r).to_type(ScalarType.Float64).item<double>() / _data.N;
        if (!double.IsFinite(loss) || loss > _c.DivergenceLoss)
        {
            var row = Metrics(step, resumedFrom) with { Status = "diverged", TrainLoss = loss };
            return new(loss, row, StepEnd.Diverged);
        }
        var now = report ? Metrics(step, resumedFrom) : null;
        if (last) return new(loss, now, StepEnd.Finished);

        var gA = h.t().mv(r);
        var gW = r.outer(_a).mul_(z.gt(0)).t().mm(_x);
        double scale = 2.0 * _c.Lr / _data.N;   // lr · (2/n)
        if (_monitor is not null && Converged(_monitor, step, scale, gW, gA, resumedFrom, ref now))
            return new(loss, now! with { Status = "converged" }, StepEnd.Converged);
        _a.add_(gA, -scale);
        _w.add_(gW, -scale);
        return new(loss, report ? now : null);   // `now` may hold the metrics of a convergence check: not a row
    }

    /// <summary>
    /// At a sampled step, tells the monitor the size of the update out of <paramref name="step"/> (−scale·g) and the
    /// metrics there, and asks whether the run has converged. <paramref name="now"/> receives the metrics.
    /// </summary>
    private bool Converged(ConvergenceMonitor monitor, long step, double scale, Tensor gW, Tensor gA, long resumedFrom,
        ref TeacherStudentRow? now)
    {
        if (!monitor.Samples(step)) return false;
        double norm = scale * Math.Sqrt(gW.to_type(ScalarType.Float64).square().sum().item<double>()
            + gA.to_type(ScalarType.Float64).square().sum().item<double>());
        var row = now ??= Metrics(step, resumedFrom);
        monitor.Tell(step, norm, monitor.MetricNames.Select(name => MetricValue(row, name)).ToArray());
        bool converged = monitor.Converged(step, _c.Steps, out string detail);
        // Every tenth verdict is enough to follow a long run in its log.
        if (converged || step % (10 * monitor.Rule.CheckEvery) == 0)
            Log?.Invoke(converged ? $"converged at step {step}: {detail}" : $"step {step}: not converged ({detail})");
        return converged;
    }

    /// <summary>Every metric of a row (what `stop_metrics` may name).</summary>
    public static IReadOnlyList<string> MetricNames { get; } =
        ["train_loss", "test_loss", "kernel_distance", "hamming_distance", "parameter_distance", "delta_drift"];

    /// <summary>
    /// The metrics the convergence rule watches by default: those continuous in the parameters. Kernel and Hamming
    /// distance depend on the activation pattern 1[w_kᵀx ≥ 0]; in rich runs units whose w_k has shrunk to ~0 keep
    /// flipping signs of tiny pre-activations from one step to the next long after the loss is 1e-13 (measured at the
    /// paper's sizes: kernel distance jumps by ~2e-3 relative, Hamming by ~0.03, step to step), so no rule can predict
    /// them to 1e-4, and watching them would stop no rich run.
    /// </summary>
    public static IReadOnlyList<string> ContinuousMetrics { get; } =
        ["train_loss", "test_loss", "parameter_distance", "delta_drift"];

    private static double MetricValue(TeacherStudentRow r, string name) => name switch
    {
        "train_loss" => r.TrainLoss,
        "test_loss" => r.TestLoss,
        "kernel_distance" => r.KernelDistance,
        "hamming_distance" => r.HammingDistance,
        "parameter_distance" => r.ParameterDistance,
        "delta_drift" => r.DeltaDrift,
        _ => throw new ArgumentException($"no metric '{name}'", nameof(name)),
    };

    /// <summary>The current parameters as float64 (exact for float32 runs too).</summary>
    public (double[] W, double[] A) Parameters()
    {
        using var scope = torch.NewDisposeScope();
        return (_w.to_type(ScalarType.Float64).cpu().data<double>().ToArray(),
            _a.to_type(ScalarType.Float64).cpu().data<double>().ToArray());
    }

    private void SetParameters(double[] w, double[] a)
    {
        using (torch.no_grad())
        {
            using var scope = torch.NewDisposeScope();
            _w.copy_(torch.tensor(w, [_data.M, _data.D], ScalarType.Float64, _device).to_type(_dtype));
            _a.copy_(torch.tensor(a, [_data.M], ScalarType.Float64, _device).to_type(_dtype));
        }
    }

    /// <summary>The metrics of the current parameters (what a checkpoint row costs; for benchmarks).</summary>
    public TeacherStudentRow MetricsNow() => Metrics(-1, 0);

    private TeacherStudentRow Metrics(long step, long resumedFrom)
    {
        using var scope = torch.NewDisposeScope();
        return MetricsOf(_w.to_type(ScalarType.Float64), _a.to_type(ScalarType.Float64), step, resumedFrom);
    }

    /// <summary>The metrics of parameters <paramref name="w"/>, <paramref name="a"/> (float64).</summary>
    private TeacherStudentRow MetricsOf(Tensor w, Tensor a, long step, long resumedFrom)
    {
        using var scope = torch.NewDisposeScope();
        var z = _x64.mm(w.t());
        double trainLoss = (z.relu().mv(a) - _y64).square().mean().item<double>();
        double testLoss = (_xt64.mm(w.t()).relu().mv(a) - _yt64).square().mean().item<double>();
        var k = Ntk(z, a);
        // S = ½‖K₀/‖K₀‖ − K/‖K‖‖²_F (the difference form keeps small distances accurate).
        double knorm = k.norm().item<double>();
        double dist = k.div_(knorm).sub_(_k0).norm().item<double>();
        double kernel = Math.Clamp(0.5 * dist * dist, 0, 1);
        double hamming = z.ge(0).ne(_z0Positive).to_type(ScalarType.Float64).sum().item<double>() / _data.N;
        double paramDist =
            Math.Sqrt((w - _w064).square().sum().item<double>() + (a - _a064).square().sum().item<double>());
        double drift = (a.square() - w.square().sum(1) - _delta0).abs().max().item<double>();
        return new TeacherStudentRow(step, trainLoss, testLoss, kernel, hamming, paramDist, drift, "ok", resumedFrom);
    }

    public void Dispose()
    {
        foreach (var t in new[] { _x, _y, _x64, _y64, _xt64, _yt64, _gram, _w064, _a064, _z0Positive, _delta0, _k0,
            _w, _a })
            t.Dispose();
    }
}
