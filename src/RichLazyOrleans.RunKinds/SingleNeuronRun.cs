using System.Text.Json.Nodes;
using RichLazyOrleans.Theory;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// `single-neuron`: the exact solution of SCIENCE.md §1. Init either as (a0, w0) or as
/// (tau, delta | alpha, w_dir): a0 = τ/α &gt; 0, w0 = τα·w_dir/‖w_dir‖.
/// </summary>
public sealed class SingleNeuronRun : IRunKind
{
    public string Name => "single-neuron";
    public IReadOnlyDictionary<string, (double Min, double Max)> Metrics { get; } = new Dictionary<string, (double, double)> { ["kernel_distance"] = (0, 1), ["loss"] = (0, double.PositiveInfinity) };
    public IReadOnlySet<string> AxisParameters { get; } = new HashSet<string> { "tau", "delta", "alpha", "a0", "eta_a", "eta_w" };
    public bool HasSeed => false;
    public string Summary => "exact gradient flow of one hidden linear neuron (keys: beta_star, a0+w0 or tau+delta|alpha+w_dir, eta_a, eta_w, times)";

    public void Validate(Spec spec) => Parse(spec);

    private static (double[] BetaStar, double A0, double[] W0, double EtaA, double EtaW, double[] Times) Parse(Spec spec)
    {
        var betaStar = spec.Vector("beta_star");
        int d = betaStar.Length;
        double a0;
        double[] w0;
        bool raw = spec.Has("a0") || spec.Has("w0");
        bool scaled = spec.Has("tau") || spec.Has("delta") || spec.Has("alpha") || spec.Has("w_dir");
        if (raw && scaled) throw new SpecException("give the init either as 'a0' and 'w0' or as 'tau', 'delta' (or 'alpha') and 'w_dir', not both");
        if (scaled)
        {
            double tau = spec.PositiveNumber("tau");
            double alpha = SingleNeuronInit.Alpha(spec, tau);
            var dir = spec.Vector("w_dir", d);
            double norm = Matrix.Norm2(dir);
            if (norm == 0) throw new SpecException("key 'w_dir' must not be the zero vector");
            a0 = tau / alpha;
            w0 = dir.Select(v => tau * alpha * v / norm).ToArray();
        }
        else
        {
            a0 = spec.Number("a0");
            w0 = spec.Vector("w0", d);
        }
        double etaA = spec.PositiveNumber("eta_a", 1.0), etaW = spec.PositiveNumber("eta_w", 1.0);
        var times = spec.Times();
        spec.RejectUnknownKeys();
        return (betaStar, a0, w0, etaA, etaW, times);
    }

    public IReadOnlyList<JsonObject> Run(Spec spec, Action<string>? log = null, Action<JsonObject>? rowReady = null, CancellationToken cancellationToken = default)
    {
        var (betaStar, a0, w0, etaA, etaW, times) = Parse(spec);

        var exact = new SingleNeuronExact(betaStar, a0, w0, etaA, etaW);
        var rows = new List<JsonObject>(times.Length);
        foreach (double t in times)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var s = exact.At(t);
            rows.Add(new JsonObject
            {
                ["t"] = s.T,
                ["a"] = s.A,
                ["w"] = Json.Array(s.W),
                ["beta"] = Json.Array(s.Beta),
                ["delta"] = s.Delta,
                ["kernel_distance"] = s.KernelDistance,
                ["loss"] = s.Loss,
            });
        }
        return rows;
    }
}

internal static class SingleNeuronInit
{
    /// <summary>α from 'alpha' or from 'delta' (exactly one of them).</summary>
    public static double Alpha(Spec spec, double tau)
    {
        if (spec.Has("alpha") && spec.Has("delta")) throw new SpecException("give either 'delta' or 'alpha', not both");
        if (spec.Has("alpha")) return spec.PositiveNumber("alpha");
        return Initialisation.Alpha(tau, spec.Number("delta"));
    }
}
