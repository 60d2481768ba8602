using System.Text.Json.Nodes;
using RichLazyOrleans.Theory;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// `single-neuron`: gradient flow of f(x) = a·wᵀx. Init either as (a0, w0) or as (tau, delta | alpha, w_dir):
/// a0 = τ/α &gt; 0, w0 = τα·w_dir/‖w_dir‖. Target either `beta_star` (whitened inputs, SCIENCE.md §1) or data `x`, `y`
/// (loss (1/2n)‖Xβ − y‖², reported as `train_loss`). solver: auto (the exact solution on whitened inputs, XᵀX/n = I
/// to 1e-9; numerical otherwise), exact, numeric (Dormand-Prince through the deep engine with W₁ = wᵀ, W₂ = [a],
/// rates η_w, η_a; keys rtol, atol).
/// </summary>
public sealed class SingleNeuronRun : IRunKind
{
    public string Name => "single-neuron";
    public IReadOnlyDictionary<string, (double Min, double Max)> Metrics { get; } =
        new Dictionary<string, (double, double)>
        {
            ["kernel_distance"] = (0, 1), ["loss"] = (0, double.PositiveInfinity),
            ["train_loss"] = (0, double.PositiveInfinity),
        };
    public IReadOnlySet<string> AxisParameters { get; } =
        new HashSet<string> { "tau", "delta", "alpha", "a0", "eta_a", "eta_w" };
    public bool HasSeed => false;
    public string Summary => "gradient flow of one hidden linear neuron f(x) = a·wᵀx (exact on whitened inputs)";
    public IReadOnlyList<SpecKey> Keys { get; } =
    [
        new("beta_star", "required (or x + y)", "target β* (d values) on whitened inputs: loss ½‖a·w − β*‖²"),
        .. SharedKeys.Data("beta_star"),
        .. SharedKeys.NeuronInit,
        new("eta_a", "1", "learning rate η_a of a, > 0 (enters δ = η_w a² − η_a‖w‖²)"),
        new("eta_w", "1", "learning rate η_w of w, > 0"),
        .. SharedKeys.Flow(solver: true),
    ];

    public void Validate(Spec spec) => Parse(spec);

    private sealed record Parsed(LinearData Data, bool Samples, double A0, double[] W0, double EtaA, double EtaW,
        double[] Times, bool Exact, double Rtol, double Atol);

    private static Parsed Parse(Spec spec)
    {
        var samples = DataKeys.Samples(spec, "beta_star");
        var data = samples ?? Whitened(spec.Vector("beta_star"));
        if (data.C != 1) throw new SpecException("key 'y': a single neuron has one output; give 'y' as n values");
        var (a0, w0) = SingleNeuronInit.Parse(spec, data.D);
        double etaA = spec.PositiveNumber("eta_a", 1.0), etaW = spec.PositiveNumber("eta_w", 1.0);
        var times = spec.Times();
        string solver = spec.String("solver", "auto", "auto", "exact", "numeric");
        double rtol = spec.PositiveNumber("rtol", 1e-10), atol = spec.PositiveNumber("atol", 1e-14);
        if (solver == "exact" && !data.IsWhitened())
            throw new SpecException("key 'x': the exact solution needs whitened inputs (XᵀX/n = I to 1e-9); "
                + "use solver 'numeric' or 'auto'");
        spec.RejectUnknownKeys();
        bool exact = solver == "exact" || (solver == "auto" && data.IsWhitened());
        return new Parsed(data, samples is not null, a0, w0, etaA, etaW, times, exact, rtol, atol);
    }

    private static LinearData Whitened(double[] betaStar) =>
        LinearData.Whitened(new Matrix(1, betaStar.Length, betaStar));

    public IReadOnlyList<JsonObject> Run(Spec spec, Action<string>? log = null, Action<JsonObject>? rowReady = null,
        CancellationToken cancellationToken = default)
    {
        var p = Parse(spec);
        return p.Exact ? Exact(p, cancellationToken) : Numeric(p);
    }

    private static List<JsonObject> Exact(Parsed p, CancellationToken cancellationToken)
    {
        var exact = new SingleNeuronExact(p.Data.SigmaYx.Data, p.A0, p.W0, p.EtaA, p.EtaW);
        return p.Times.Select(t =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            var s = exact.At(t);
            return Row(p, s.T, s.A, s.W, s.Delta, s.KernelDistance, s.Loss, "exact");
        }).ToList();
    }

    /// <summary>The flow on correlated or underdetermined data; the noise-floor test holds t = 1e9.</summary>
    private static List<JsonObject> Numeric(Parsed p)
    {
        var numeric = new DeepLinearNumeric(p.Data, [new Matrix(1, p.W0.Length, p.W0), new Matrix(1, 1, [p.A0])],
            [p.EtaW, p.EtaA])
        {
            Integrator = new DormandPrince45
            {
                RelativeTolerance = p.Rtol, AbsoluteTolerance = p.Atol,
                NoiseFloorSteps = DeepLinearNumeric.NoiseFloorSteps,
            },
        };
        bool whitened = p.Data.IsWhitened();
        return numeric.Solve(p.Times).Select(s =>
        {
            double a = s.Weights[1].Data[0];
            var w = s.Weights[0].Data;
            double delta = p.EtaW * a * a - p.EtaA * Matrix.Norm2(w) * Matrix.Norm2(w);
            double loss = whitened ? 0.5 * Math.Pow((s.Beta - p.Data.SigmaYx).FrobeniusNorm(), 2) : s.Loss;
            return Row(p, s.T, a, w, delta, s.KernelDistance, loss, "numeric");
        }).ToList();
    }

    /// <summary>`loss` is ½‖β − β*‖² on whitened inputs and the data loss otherwise; with data `train_loss` is always
    /// the data loss (1/2n)‖Xβ − y‖².</summary>
    private static JsonObject Row(Parsed p, double t, double a, double[] w, double delta, double kernel, double loss,
        string solver)
    {
        var beta = w.Select(v => a * v).ToArray();
        var row = new JsonObject
        {
            ["t"] = t,
            ["a"] = a,
            ["w"] = Json.Array(w),
            ["beta"] = Json.Array(beta),
            ["delta"] = delta,
            ["kernel_distance"] = kernel,
            ["loss"] = loss,
            ["solver"] = solver,
        };
        if (p.Samples) row["train_loss"] = p.Data.Loss(new Matrix(1, beta.Length, beta));
        return row;
    }
}

internal static class SingleNeuronInit
{
    /// <summary>(a0, w0) from `a0` and `w0`, or from `tau`, `delta` (or `alpha`) and `w_dir`.</summary>
    public static (double A0, double[] W0) Parse(Spec spec, int d)
    {
        bool raw = spec.Has("a0") || spec.Has("w0");
        bool scaled = spec.Has("tau") || spec.Has("delta") || spec.Has("alpha") || spec.Has("w_dir");
        if (raw && scaled)
            throw new SpecException("give the init either as 'a0' and 'w0' or as 'tau', 'delta' (or 'alpha') and "
                + "'w_dir', not both");
        if (!scaled) return (spec.Number("a0"), spec.Vector("w0", d));
        double tau = spec.PositiveNumber("tau");
        double alpha = Alpha(spec, tau);
        var dir = spec.Vector("w_dir", d);
        double norm = Matrix.Norm2(dir);
        if (norm == 0) throw new SpecException("key 'w_dir' must not be the zero vector");
        return (tau / alpha, dir.Select(v => tau * alpha * v / norm).ToArray());
    }

    /// <summary>α from 'alpha' or from 'delta' (exactly one of them).</summary>
    public static double Alpha(Spec spec, double tau)
    {
        if (spec.Has("alpha") && spec.Has("delta")) throw new SpecException("give either 'delta' or 'alpha', not both");
        if (spec.Has("alpha")) return spec.PositiveNumber("alpha");
        return Initialisation.Alpha(tau, spec.Number("delta"));
    }
}
