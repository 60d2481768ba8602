using System.Text.Json.Nodes;
using RichLazyOrleans.Theory;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// `two-layer-linear`: gradient flow of f(x) = W₂W₁x on whitened inputs (SCIENCE.md §2).
/// solver: auto (exact when the init is λ-balanced to relative 1e-9, numerical otherwise),
/// exact (refuses an unbalanced init), numeric (Dormand-Prince; keys rtol, atol).
/// </summary>
public sealed class TwoLayerLinearRun : IRunKind
{
    public string Name => "two-layer-linear";
    public IReadOnlyDictionary<string, (double Min, double Max)> Metrics { get; } = new Dictionary<string, (double, double)> { ["kernel_distance"] = (0, 1), ["loss"] = (0, double.PositiveInfinity) };
    public IReadOnlySet<string> AxisParameters { get; } = new HashSet<string> { "eta1", "eta2" };
    public bool HasSeed => false;
    public string Summary => "gradient flow of a two-layer linear network (keys: sigma_yx, w1, w2, eta1, eta2, times, solver auto|exact|numeric, rtol, atol)";

    public void Validate(Spec spec) => Parse(spec);

    private static (Matrix Sigma, Matrix W1, Matrix W2, double Eta1, double Eta2, double[] Times, string Solver, double Rtol, double Atol, bool Balanced) Parse(Spec spec)
    {
        var sigma = spec.Matrix("sigma_yx");
        int c = sigma.Rows, d = sigma.Cols;
        var w1 = spec.Matrix("w1", cols: d, shape: "h x d");
        int h = w1.Rows;
        var w2 = spec.Matrix("w2", c, h, "c x h");
        double eta1 = spec.PositiveNumber("eta1", 1.0), eta2 = spec.PositiveNumber("eta2", 1.0);
        var times = spec.Times();
        string solver = spec.String("solver", "auto", "auto", "exact", "numeric");
        double rtol = spec.PositiveNumber("rtol", 1e-10), atol = spec.PositiveNumber("atol", 1e-14);
        var balance = Balance.Of(w1, w2, eta1, eta2);
        bool balanced = balance.RelativeImbalance <= Balance.DefaultTolerance;
        if (solver == "exact" && !balanced)
            throw new SpecException(new NotBalancedException(balance, Balance.DefaultTolerance).Message + "; use solver 'numeric' or 'auto'");
        spec.RejectUnknownKeys();
        return (sigma, w1, w2, eta1, eta2, times, solver, rtol, atol, balanced);
    }

    public IReadOnlyList<JsonObject> Run(Spec spec, Action<string>? log = null, Action<JsonObject>? rowReady = null, CancellationToken cancellationToken = default)
    {
        var (sigma, w1, w2, eta1, eta2, times, solver, rtol, atol, balanced) = Parse(spec);
        bool useExact = solver == "exact" || (solver == "auto" && balanced);

        IEnumerable<TwoLayerLinearState> states;
        if (useExact)
        {
            var exact = new TwoLayerLinearExact(sigma, w1, w2, eta1, eta2);
            states = times.Select(t => { cancellationToken.ThrowIfCancellationRequested(); return exact.At(t); });
        }
        else
        {
            var numeric = new TwoLayerLinearNumeric(sigma, w1, w2, eta1, eta2)
            {
                Integrator = new DormandPrince45 { RelativeTolerance = rtol, AbsoluteTolerance = atol },
            };
            states = numeric.Solve(times);
        }
        string used = useExact ? "exact" : "numeric";
        return states.Select(s => new JsonObject
        {
            ["t"] = s.T,
            ["beta"] = Json.Rows(s.Beta),
            ["kernel_distance"] = s.KernelDistance,
            ["loss"] = s.Loss,
            ["solver"] = used,
        }).ToList();
    }
}
