namespace RichLazyOrleans.Theory;

/// <summary>One stage of a task sequence: the data the network trains on, for <paramref name="Duration"/> &gt; 0.
/// </summary>
public sealed record LinearTask(LinearData Data, double Duration);

/// <summary>A task sequence's state at global time t.</summary>
/// <param name="T">global time (0 at the start of stage 0)</param>
/// <param name="Task">the stage active at t; at a switch time, the stage that just ended (stage 0 at t = 0)</param>
/// <param name="Beta">β = W₂W₁</param>
/// <param name="Losses">the loss of β on every task (<see cref="LinearData.Loss"/>), in stage order</param>
/// <param name="KernelDistance">distance of the NTK on whitened inputs from t = 0 (the same operator for every task)
/// </param>
/// <param name="LambdaDrift">‖Δ(t) − Δ(0)‖_F, Δ = η₁W₂ᵀW₂ − η₂W₁W₁ᵀ</param>
/// <param name="W1">W₁ (exact path: up to an h×h rotation, which leaves β, the NTK and a λI conserved quantity alone)
/// </param>
/// <param name="W2">W₂ (rotated like W₁)</param>
public sealed record TaskSequenceState(double T, int Task, Matrix Beta, double[] Losses, double KernelDistance,
    double LambdaDrift, Matrix W1, Matrix W2)
{
    public double Loss => Losses[Task];
}

/// <summary>
/// Gradient flow of a two-layer linear network through a sequence of tasks (SCIENCE.md §2): stage k trains on task k
/// for its duration, starting from the weights stage k − 1 ended with. Δ = η₁W₂ᵀW₂ − η₂W₁W₁ᵀ does not depend on the
/// data, so it is conserved across switches: a λ-balanced init stays λ-balanced, and the exact solution continues
/// stage to stage from the factor it ends with (it depends on the init only through P = QQᵀ, so the factor's h×h
/// gauge does not matter). The numerical path integrates stage by stage, carrying the weights.
/// </summary>
public sealed partial class TwoLayerLinearTasks
{
    private readonly LinearTask[] _tasks;
    private readonly double[] _start;   // stage k runs over [_start[k], _start[k + 1]]
    private readonly double _eta1, _eta2;
    private readonly Matrix _w2w2t0, _w1tw10, _delta0;
    private readonly Stage[] _stages;

    /// <summary>Whether the stages use the exact solution (else the numerical flow).</summary>
    public bool Exact { get; }
    public double TotalDuration => _start[^1];
    public int Count => _tasks.Length;
    /// <summary>Global time at which stage k starts.</summary>
    public double StartOf(int stage) => _start[stage];

    /// <param name="tasks">stages, each with the same d and c, durations finite and &gt; 0</param>
    /// <param name="w1">W₁ (h×d) at t = 0</param>
    /// <param name="w2">W₂ (c×h) at t = 0</param>
    /// <param name="eta1">rate of W₁</param>
    /// <param name="eta2">rate of W₂</param>
    /// <param name="exact">exact solution (needs a λ-balanced init and whitened tasks) or numerical flow</param>
    /// <param name="integrator">the numerical path's integrator (default: rtol 1e-10, atol 1e-14, noise floor)</param>
    public TwoLayerLinearTasks(IReadOnlyList<LinearTask> tasks, Matrix w1, Matrix w2, double eta1 = 1.0,
        double eta2 = 1.0, bool exact = true, DormandPrince45? integrator = null)
    {
        if (tasks.Count == 0) throw new ArgumentException("a task sequence needs at least one task");
        int d = tasks[0].Data.D, c = tasks[0].Data.C;
        for (int k = 0; k < tasks.Count; k++)
        {
            if (tasks[k].Data.D != d || tasks[k].Data.C != c)
                throw new ArgumentException($"task {k} is {tasks[k].Data.C} x {tasks[k].Data.D}, task 0 is {c} x {d}");
            if (!(tasks[k].Duration > 0) || !double.IsFinite(tasks[k].Duration))
                throw new ArgumentOutOfRangeException(nameof(tasks), tasks[k].Duration,
                    $"task {k}: duration must be finite and > 0");
        }
        if (exact && tasks.Any(t => !t.Data.IsWhitened()))
            throw new ArgumentException("the exact solution needs whitened inputs in every task");
        (_tasks, _eta1, _eta2, Exact) = (tasks.ToArray(), eta1, eta2, exact);
        _start = new double[tasks.Count + 1];
        for (int k = 0; k < tasks.Count; k++) _start[k + 1] = _start[k] + tasks[k].Duration;
        (_w2w2t0, _w1tw10, _delta0) = (w2.TimesTranspose(), w1.TransposeTimes(), Conserved(w1, w2));
        var integ = integrator ?? new DormandPrince45 { NoiseFloorSteps = DeepLinearNumeric.NoiseFloorSteps };
        _stages = new Stage[tasks.Count];
        var (a, b) = (w1.Clone(), w2.Clone());
        for (int k = 0; k < tasks.Count; k++)
        {
            // Each stage starts from the one before's end: the whole point of the sequence.
            _stages[k] = exact ? new ExactStage(tasks[k].Data.SigmaYx, a, b, eta1, eta2)
                : new NumericStage(tasks[k].Data, a, b, eta1, eta2, integ);
            if (k + 1 < tasks.Count) (a, b) = _stages[k].WeightsAt([tasks[k].Duration])[0];
        }
    }

    /// <summary>The stage active at global time t: the first whose end is ≥ t (so a switch time belongs to the
    /// stage that just ended). Times past the end belong to the last stage.</summary>
    public int TaskAt(double t)
    {
        for (int k = 0; k < _tasks.Length; k++)
            if (t <= _start[k + 1]) return k;
        return _tasks.Length - 1;
    }

    /// <summary>States at global times in [0, <see cref="TotalDuration"/>], in the order given.</summary>
    public TaskSequenceState[] Solve(IReadOnlyList<double> times)
    {
        foreach (var t in times)
            if (!(t >= 0) || t > TotalDuration)
                throw new ArgumentOutOfRangeException(nameof(times), t, $"times must be in [0, {TotalDuration}]");
        var result = new TaskSequenceState[times.Count];
        foreach (var group in Enumerable.Range(0, times.Count).GroupBy(i => TaskAt(times[i])))
        {
            int k = group.Key;
            var idx = group.ToArray();
            // Clamp: t − start may round a hair past the stage's end or below 0.
            var local = idx.Select(i => Math.Clamp(times[i] - _start[k], 0, _tasks[k].Duration)).ToArray();
            var weights = _stages[k].WeightsAt(local);
            for (int j = 0; j < idx.Length; j++)
                result[idx[j]] = State(times[idx[j]], k, weights[j].W1, weights[j].W2);
        }
        return result;
    }

    /// <summary>
    /// The time since the start of <paramref name="stage"/> at which the loss on its own task first falls to
    /// ≤ <paramref name="epsilon"/>, or NaN if it stays above within the stage. Gradient flow never raises the loss
    /// it descends, so the loss is monotone in the stage and bisection finds the crossing (to ~1e-13 of the stage).
    /// </summary>
    public double TimeToLoss(int stage, double epsilon)
    {
        var data = _tasks[stage].Data;
        double LossAt(double s)
        {
            var (w1, w2) = _stages[stage].WeightsAt([s])[0];
            return data.Loss(w2 * w1);
        }
        double hi = _tasks[stage].Duration;
        if (LossAt(0) <= epsilon) return 0;
        if (!(LossAt(hi) <= epsilon)) return double.NaN;
        double lo = 0;
        for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (LossAt(mid) <= epsilon) hi = mid; else lo = mid;
        }
        return hi;
    }

    private TaskSequenceState State(double t, int task, Matrix w1, Matrix w2)
    {
        var beta = w2 * w1;
        var losses = _tasks.Select(x => x.Data.Loss(beta)).ToArray();
        double kd = Theory.KernelDistance.TwoLayer(_w2w2t0, _w1tw10, w2.TimesTranspose(), w1.TransposeTimes(),
            _eta1, _eta2);
        double drift = (Conserved(w1, w2) - _delta0).FrobeniusNorm();
        return new TaskSequenceState(t, task, beta, losses, kd, drift, w1, w2);
    }

    private Matrix Conserved(Matrix w1, Matrix w2) => _eta1 * w2.TransposeTimes() - _eta2 * w1.TimesTranspose();
}
