using System.Diagnostics;
using System.Text.Json.Nodes;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// `synthetic`: a known phase field for testing orchestration and refinement.
/// value = 1/(1 + exp(−(x + cx2·x² + cxd·x·δ − c0 − c1·δ − c2·δ²)/width)) + noise·N(0,1),
/// x = log10 τ;
/// without noise its 0.5 level set is the conic x + cx2·x² + cxd·x·δ = c0 + c1·δ + c2·δ² (with
/// cx2 = cxd = 0 the curve log10 τ = c0 + c1·δ + c2·δ²; cx2 > 0 can close it into an ellipse, cxd
/// split it into two hyperbola branches). The noise draw is a function of (seed, τ, δ) only, so a
/// rerun repeats it and seeds differ. duration_ms·duration_spread^u of busy CPU work, u ∈ [−1, 1]
/// another function of (seed, τ, δ), stands in for training whose run times vary.
/// </summary>
public sealed class SyntheticRun : IRunKind
{
    private static double _sink; // keeps the busy loop observable so it is not optimised away

    public string Name => "synthetic";
    public IReadOnlyDictionary<string, (double Min, double Max)> Metrics { get; } =
        new Dictionary<string, (double, double)> { ["value"] = (0, 1) };
    public IReadOnlySet<string> AxisParameters { get; } = new HashSet<string>
    {
        "tau", "delta", "c0", "c1", "c2", "cx2", "cxd", "width", "noise", "duration_ms", "duration_spread",
    };
    // Seeded since the noise and the duration spread draw from the seed; with both at their
    // defaults the seed changes nothing.
    public bool HasSeed => true;
    public string Summary => "a known phase field for testing sweeps: value = logistic((x + cx2·x² + cxd·x·δ − c0 "
        + "− c1·δ − c2·δ²)/width) + noise, x = log10 τ";
    public IReadOnlyList<SpecKey> Keys { get; } =
    [
        new("tau", SpecKey.Required, "τ > 0; x = log10 τ"),
        new("delta", SpecKey.Required, "δ, any real"),
        new("c0", SpecKey.Required, "constant term of the boundary curve x = c0 + c1·δ + c2·δ²"),
        new("c1", SpecKey.Required, "linear term in δ of the boundary"),
        new("c2", SpecKey.Required, "quadratic term in δ of the boundary"),
        new("cx2", "0", "coefficient of x² (> 0 can close the boundary into an ellipse)"),
        new("cxd", "0", "coefficient of x·δ (can split the boundary into two hyperbola branches)"),
        new("width", SpecKey.Required, "> 0, width of the logistic transition, in units of log10 τ"),
        new("noise", "0", "≥ 0: adds noise·N(0, 1), a draw fixed by (seed, τ, δ) (value may then leave [0, 1])"),
        new("seed", "0", "integer ≥ 0, picks the noise and duration draws"),
        new("duration_ms", "0", "≥ 0, milliseconds of busy CPU work before answering (stands in for training)"),
        new("duration_spread", "1", "≥ 1: the busy time is duration_ms·spread^u, u ∈ [−1, 1) drawn from "
            + "(seed, τ, δ)"),
    ];

    private sealed record Parsed(double Tau, double Delta, double C0, double C1, double C2, double Cx2, double Cxd,
        double Width, double Noise, long Seed, double DurationMs, double DurationSpread);

    public void Validate(Spec spec) => Parse(spec);

    private static Parsed Parse(Spec spec)
    {
        double tau = spec.PositiveNumber("tau"), delta = spec.Number("delta");
        double c0 = spec.Number("c0"), c1 = spec.Number("c1"), c2 = spec.Number("c2");
        double cx2 = spec.Number("cx2", 0), cxd = spec.Number("cxd", 0);
        double width = spec.PositiveNumber("width");
        double noise = spec.Number("noise", 0);
        if (noise < 0) throw new SpecException("key 'noise' must be >= 0");
        long seed = spec.Integer("seed", 0, min: 0);
        double durationMs = spec.Number("duration_ms", 0);
        if (durationMs < 0) throw new SpecException("key 'duration_ms' must be >= 0");
        double spread = spec.Number("duration_spread", 1);
        if (!(spread >= 1)) throw new SpecException("key 'duration_spread' must be >= 1");
        spec.RejectUnknownKeys();
        return new Parsed(tau, delta, c0, c1, c2, cx2, cxd, width, noise, seed, durationMs, spread);
    }

    public IReadOnlyList<JsonObject> Run(Spec spec, Action<string>? log = null, Action<JsonObject>? rowReady = null,
        CancellationToken cancellationToken = default)
    {
        var p = Parse(spec);
        double busyMs = p.DurationSpread == 1
            ? p.DurationMs
            : p.DurationMs * Math.Pow(p.DurationSpread, SpreadExponent(p.Seed, p.Tau, p.Delta));

        // Busy work, not a sleep: it occupies a core like a real run would.
        var sw = Stopwatch.StartNew();
        double sink = 0;
        while (sw.Elapsed.TotalMilliseconds < busyMs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int i = 0; i < 1000; i++) sink += Math.Sqrt(i + sink % 7);
        }
        double value = Value(p.Tau, p.Delta, p.C0, p.C1, p.C2, p.Width, p.Cx2, p.Cxd);
        if (p.Noise > 0) value += p.Noise * StandardNormal(p.Seed, p.Tau, p.Delta);
        Volatile.Write(ref _sink, sink);
        return [new JsonObject { ["step"] = 0L, ["value"] = value }];
    }

    /// <summary>The noiseless field. With cx2 = cxd = 0 the added terms are exact zeros, so the value is
    /// bit for bit the original 1/(1 + exp(−(log10 τ − c0 − c1·δ − c2·δ²)/width)).</summary>
    public static double Value(double tau, double delta, double c0, double c1, double c2, double width,
        double cx2 = 0, double cxd = 0)
    {
        double x = Math.Log10(tau);
        double z = (x + cx2 * x * x + cxd * x * delta - c0 - c1 * delta - c2 * delta * delta) / width;
        return 1 / (1 + Math.Exp(-z));
    }

    // Separate streams, so the noise and the duration of a run are independent draws.
    private const ulong NoiseStream = 1, DurationStream = 2;

    /// <summary>A standard normal draw, a function of (seed, τ, δ) only (Box-Muller on two hashed uniforms).
    /// </summary>
    public static double StandardNormal(long seed, double tau, double delta)
    {
        ulong h = Hash(seed, tau, delta, NoiseStream);
        double u1 = ((h >> 11) + 1) * (1.0 / (1UL << 53));   // (0, 1]: the logarithm stays finite
        double u2 = (Mix(h) >> 11) * (1.0 / (1UL << 53));     // [0, 1)
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>The exponent u ∈ [−1, 1) of a run's duration factor spread^u, a function of (seed, τ, δ).
    /// </summary>
    public static double SpreadExponent(long seed, double tau, double delta) =>
        2 * ((Hash(seed, tau, delta, DurationStream) >> 11) * (1.0 / (1UL << 53))) - 1;

    private static ulong Hash(long seed, double tau, double delta, ulong stream)
    {
        // −0 and +0 are the same δ (an axis may produce either), so they must draw the same.
        if (delta == 0) delta = 0;
        ulong h = Mix((ulong)seed ^ (stream << 56));
        h = Mix(h ^ (ulong)BitConverter.DoubleToInt64Bits(tau));
        return Mix(h ^ (ulong)BitConverter.DoubleToInt64Bits(delta));
    }

    /// <summary>SplitMix64's step and finaliser: a bijection on 64 bits with good avalanche.</summary>
    private static ulong Mix(ulong x)
    {
        ulong z = x + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
