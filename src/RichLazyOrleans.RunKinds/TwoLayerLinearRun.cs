using System.Text.Json.Nodes;
using RichLazyOrleans.Theory;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// `two-layer-linear`: gradient flow of f(x) = W₂W₁x on whitened inputs (`sigma_yx`, SCIENCE.md §2) or on data
/// (`x`, `y`: loss (1/2n)‖XW₁ᵀW₂ᵀ − Y‖², reported as `train_loss`). solver: auto (exact when the init is λ-balanced
/// to relative 1e-9 and the data whitened, XᵀX/n = I to 1e-9; numerical otherwise), exact (refuses an unbalanced init
/// or correlated data), numeric (Dormand-Prince; keys rtol, atol). The init is `w1`, `w2` or drawn λ-balanced
/// (`tau`, `delta` or `alpha`, `hidden`, `init_seed`); `tasks` trains through a sequence of tasks
/// (TwoLayerLinearRun.Tasks.cs).
/// </summary>
public sealed partial class TwoLayerLinearRun : IRunKind
{
    public string Name => "two-layer-linear";
    public IReadOnlyDictionary<string, (double Min, double Max)> Metrics { get; } =
        new Dictionary<string, (double, double)>
        {
            ["kernel_distance"] = (0, 1), ["loss"] = (0, double.PositiveInfinity),
            ["train_loss"] = (0, double.PositiveInfinity),
        }.Concat(TaskMetrics).ToDictionary();
    public IReadOnlyCollection<string> OutputColumns => [.. Metrics.Keys, .. TaskColumns];
    public IReadOnlySet<string> AxisParameters { get; } =
        new HashSet<string> { "eta1", "eta2", "tau", "delta", "alpha" };
    public bool HasSeed => false;
    public string Summary => "gradient flow of a two-layer linear network W₂W₁ (exact when λ-balanced on whitened "
        + "inputs), optionally through a sequence of tasks";
    public IReadOnlyList<SpecKey> Keys { get; } =
    [
        new("sigma_yx", "required (or x + y, or tasks)", "Σ_yx, c×d matrix, on whitened inputs: loss ½‖β − Σ_yx‖²_F"),
        .. SharedKeys.Data("sigma_yx"),
        .. SharedKeys.TwoLayerInit,
        new("eta1", "1", "learning rate η₁ of W₁, > 0"),
        new("eta2", "1", "learning rate η₂ of W₂, > 0"),
        .. SharedKeys.Flow(solver: true),
        new("tasks", SpecKey.Optional, $"1 to {MaxTasks} stages {{ sigma_yx (or x and y), duration > 0 }} trained "
            + "one after the other, instead of top-level data; times are global, up to the total duration"),
        new("epsilon", SpecKey.Optional, "ε > 0 (with tasks): time_to_eps is the time from the last stage's start "
            + "until its loss first falls to ≤ ε"),
        new("baseline", "none", "none | scratch (with tasks): scratch also trains the last task alone from the "
            + "init (scratch_loss, scratch_time_to_eps, transfer_speedup)"),
    ];

    public void Validate(Spec spec) => Parse(spec);

    private static Parsed Parse(Spec spec) => Parse(spec, out _);

    /// <summary>`sigma_yx`, or `x` (n×d) and `y` (n×c, or n values for c = 1) as <see cref="LinearData"/>.</summary>
    private static LinearData Data(Spec spec) =>
        DataKeys.Samples(spec, "sigma_yx") ?? LinearData.Whitened(spec.Matrix("sigma_yx"));

    private sealed record Parsed(Matrix Sigma, Matrix W1, Matrix W2, double Eta1, double Eta2, double[] Times,
        string Solver, double Rtol, double Atol, bool Balanced)
    {
        /// <summary>The stages of `tasks` and their protocol keys (null without `tasks`).</summary>
        public TaskKeys? Tasks { get; init; }
    }

    private static Parsed Parse(Spec spec, out LinearData data)
    {
        var tasks = Tasks(spec);
        data = tasks?.Stages[0].Data ?? Data(spec);
        var sigma = data.SigmaYx;
        int c = sigma.Rows, d = sigma.Cols;
        var (w1, w2) = Init(spec, d, c);
        double eta1 = spec.PositiveNumber("eta1", 1.0), eta2 = spec.PositiveNumber("eta2", 1.0);
        var times = spec.Times();
        string solver = spec.String("solver", "auto", "auto", "exact", "numeric");
        double rtol = spec.PositiveNumber("rtol", 1e-10), atol = spec.PositiveNumber("atol", 1e-14);
        var balance = Balance.Of(w1, w2, eta1, eta2);
        bool balanced = balance.RelativeImbalance <= Balance.DefaultTolerance;
        if (solver == "exact" && !balanced)
            throw new SpecException(new NotBalancedException(balance, Balance.DefaultTolerance).Message
                + "; use solver 'numeric' or 'auto'");
        bool whitened = tasks?.Stages.All(t => t.Data.IsWhitened()) ?? data.IsWhitened();
        if (solver == "exact" && !whitened)
            throw new SpecException($"key '{(tasks is null ? "x" : "tasks")}': the exact solution needs whitened "
                + "inputs (XᵀX/n = I to 1e-9); use solver 'numeric' or 'auto'");
        balanced &= whitened;   // the exact path needs both
        if (tasks is not null) CheckTimes(times, tasks);
        spec.RejectUnknownKeys();
        return new Parsed(sigma, w1, w2, eta1, eta2, times, solver, rtol, atol, balanced) { Tasks = tasks };
    }

    public IReadOnlyList<JsonObject> Run(Spec spec, Action<string>? log = null, Action<JsonObject>? rowReady = null,
        CancellationToken cancellationToken = default)
    {
        var parsed = Parse(spec, out var data);
        var (sigma, w1, w2, eta1, eta2, times, solver, rtol, atol, balanced) = parsed;
        bool samples = spec.Has("x");
        bool useExact = solver == "exact" || (solver == "auto" && balanced);
        if (parsed.Tasks is { } tasks) return RunTasks(parsed, tasks, useExact, cancellationToken);

        IEnumerable<TwoLayerLinearState> states;
        if (useExact)
        {
            var exact = new TwoLayerLinearExact(sigma, w1, w2, eta1, eta2);
            states = times.Select(t => { cancellationToken.ThrowIfCancellationRequested(); return exact.At(t); });
        }
        else if (samples)
        {
            // Correlated data: the deep engine at L = 2 takes Σ_xx ≠ I, and holds t = 1e9 once at its noise floor.
            var numeric = new DeepLinearNumeric(data, [w1, w2], [eta1, eta2])
            {
                Integrator = new DormandPrince45
                {
                    RelativeTolerance = rtol, AbsoluteTolerance = atol,
                    NoiseFloorSteps = DeepLinearNumeric.NoiseFloorSteps,
                },
            };
            bool whitened = data.IsWhitened();
            return numeric.Solve(times).Select(s => Row(s.T, s.Beta, s.KernelDistance,
                whitened ? 0.5 * Math.Pow((s.Beta - sigma).FrobeniusNorm(), 2) : s.Loss, data, "numeric")).ToList();
        }
        else
        {
            // The noise-floor test too: an unbalanced init's flow otherwise hit the step limit before t = 1e9.
            var numeric = new TwoLayerLinearNumeric(sigma, w1, w2, eta1, eta2)
            {
                Integrator = new DormandPrince45
                {
                    RelativeTolerance = rtol, AbsoluteTolerance = atol,
                    NoiseFloorSteps = DeepLinearNumeric.NoiseFloorSteps,
                },
            };
            states = numeric.Solve(times);
        }
        string used = useExact ? "exact" : "numeric";
        return states.Select(s => Row(s.T, s.Beta, s.KernelDistance, s.Loss, samples ? data : null, used)).ToList();
    }

    /// <summary>
    /// One output row. With data, `loss` is ½‖β − Σ_yx‖² on whitened inputs (as for `sigma_yx`) and the data loss
    /// otherwise, and `train_loss` is always the data loss (1/2n)‖Xβᵀ − Y‖².
    /// </summary>
    private static JsonObject Row(double t, Matrix beta, double kernel, double loss, LinearData? data, string solver)
    {
        var row = new JsonObject
        {
            ["t"] = t,
            ["beta"] = Json.Rows(beta),
            ["kernel_distance"] = kernel,
            ["loss"] = loss,
            ["solver"] = solver,
        };
        if (data is not null) row["train_loss"] = data.Loss(beta);
        return row;
    }
}
