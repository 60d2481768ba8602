using System.Diagnostics;
using System.Text.Json.Nodes;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// `synthetic`: a known phase field for testing orchestration and refinement.
/// value = 1/(1 + exp(−(log10 τ − c0 − c1·δ − c2·δ²)/width)); its 0.5 level set is the curve
/// log10 τ = c0 + c1·δ + c2·δ². duration_ms of busy CPU work stands in for training.
/// </summary>
public sealed class SyntheticRun : IRunKind
{
    private static double _sink; // keeps the busy loop observable so it is not optimised away

    public string Name => "synthetic";
    public IReadOnlyDictionary<string, (double Min, double Max)> Metrics { get; } = new Dictionary<string, (double, double)> { ["value"] = (0, 1) };
    public IReadOnlySet<string> AxisParameters { get; } = new HashSet<string> { "tau", "delta", "c0", "c1", "c2", "width", "duration_ms" };
    public bool HasSeed => false;
    public string Summary => "a known phase field for testing sweeps (keys: tau, delta, c0, c1, c2, width, duration_ms)";

    public void Validate(Spec spec) => Parse(spec);

    private static (double Tau, double Delta, double C0, double C1, double C2, double Width, double DurationMs) Parse(Spec spec)
    {
        double tau = spec.PositiveNumber("tau"), delta = spec.Number("delta");
        double c0 = spec.Number("c0"), c1 = spec.Number("c1"), c2 = spec.Number("c2");
        double width = spec.PositiveNumber("width");
        double durationMs = spec.Number("duration_ms", 0);
        if (durationMs < 0) throw new SpecException("key 'duration_ms' must be >= 0");
        spec.RejectUnknownKeys();
        return (tau, delta, c0, c1, c2, width, durationMs);
    }

    public IReadOnlyList<JsonObject> Run(Spec spec, Action<string>? log = null, Action<JsonObject>? rowReady = null, CancellationToken cancellationToken = default)
    {
        var (tau, delta, c0, c1, c2, width, durationMs) = Parse(spec);

        // Busy work, not a sleep: it occupies a core like a real run would.
        var sw = Stopwatch.StartNew();
        double sink = 0;
        while (sw.Elapsed.TotalMilliseconds < durationMs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int i = 0; i < 1000; i++) sink += Math.Sqrt(i + sink % 7);
        }
        double z = (Math.Log10(tau) - c0 - c1 * delta - c2 * delta * delta) / width;
        double value = 1 / (1 + Math.Exp(-z));
        Volatile.Write(ref _sink, sink);
        return [new JsonObject { ["step"] = 0L, ["value"] = value }];
    }
}
