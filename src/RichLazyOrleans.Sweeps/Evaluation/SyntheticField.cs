namespace RichLazyOrleans.Sweeps.Evaluation;

/// <summary>
/// The `synthetic` run kind's field (ENGINEERING.md) over τ ∈ [TauFrom, TauTo] (log) × δ ∈ [DeltaFrom, DeltaTo]:
/// value = logistic((x + cx2·x² + cxd·x·δ − c0 − c1·δ − c2·δ²)/width), x = log10 τ. Written here a
/// second time on purpose (the run kind is the other copy): benchmarks evaluate it directly, and a test checks both
/// agree.
/// </summary>
public sealed record SyntheticField(string Family, double C0, double C1, double C2, double Cx2, double Cxd,
    double Width, double TauFrom = 0.1, double TauTo = 2, double DeltaFrom = -1, double DeltaTo = 1)
{
    public double X(double u) => Math.Log10(TauFrom) + u * (Math.Log10(TauTo) - Math.Log10(TauFrom));
    public double Delta(double v) => DeltaFrom + v * (DeltaTo - DeltaFrom);
    public double Tau(double u) => Math.Pow(10, X(u));

    public double At(double u, double v)
    {
        double x = X(u), d = Delta(v);
        double z = (x + Cx2 * x * x + Cxd * x * d - C0 - C1 * d - C2 * d * d) / Width;
        return 1 / (1 + Math.Exp(-z));
    }

    /// <summary>The noise the run kind adds for a seed: noise·N(0, 1), deterministic in (seed, τ, δ).</summary>
    public static double Noise(long seed, double tau, double delta)
    {
        ulong h = Mix((ulong)seed
            ^ Mix((ulong)BitConverter.DoubleToInt64Bits(tau) ^ Mix((ulong)BitConverter.DoubleToInt64Bits(delta))));
        double u1 = ((Mix(h) >> 11) + 0.5) / (1UL << 53), u2 = ((Mix(h + 1) >> 11) + 0.5) / (1UL << 53);
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>An open boundary x = c0 + c1·δ + c2·δ² crossing the domain.</summary>
    public static SyntheticField Open(Random r, double width) =>
        new("open", -0.75 + 0.7 * r.NextDouble(), 0.8 * (r.NextDouble() - 0.5), 0.8 * (r.NextDouble() - 0.5),
            0, 0, width);

    /// <summary>
    /// A closed boundary (x − x0)²/a² + (δ − d0)²/b² = 1 rewritten in the kind's form: k·(that − 1) has
    /// x-coefficient −2k·x0/a², which must be 1. The width is scaled by k·2/a so the transition is about
    /// <paramref name="width"/> wide in x where the ellipse crosses the x direction.
    /// </summary>
    public static SyntheticField Ellipse(double x0, double d0, double a, double b, double width,
        string family = "ellipse")
    {
        double k = -a * a / (2 * x0);
        double cx2 = k / (a * a), c2 = -k / (b * b), c1 = 2 * k * d0 / (b * b);
        double c0 = -k * (x0 * x0 / (a * a) + d0 * d0 / (b * b) - 1);
        return new(family, c0, c1, c2, cx2, 0, width * Math.Abs(k) * 2 / a);
    }

    public static SyntheticField RandomEllipse(Random r, double width) =>
        Ellipse(-0.75 + 0.6 * r.NextDouble(), 0.6 * (r.NextDouble() - 0.5), 0.2 + 0.2 * r.NextDouble(),
            0.3 + 0.3 * r.NextDouble(), width);

    /// <summary>
    /// Two branches: (δ − d0)²/b² − (x − x0)²/a² = 1, i.e. δ = d0 ± b·√(1 + (x − x0)²/a²), one
    /// branch in the upper and one in the lower half of the domain. Same rewriting as <see cref="Ellipse"/> with the
    /// signs of the squares flipped.
    /// </summary>
    public static SyntheticField Hyperbola(Random r, double width)
    {
        double x0 = -0.8 + 0.6 * r.NextDouble(), d0 = 0.2 * (r.NextDouble() - 0.5);
        double a = 0.3 + 0.4 * r.NextDouble(), b = 0.25 + 0.3 * r.NextDouble();
        // F = k·((δ − d0)²/b² − (x − x0)²/a² − 1); x-coefficient 2k·x0/a² = 1.
        double k = a * a / (2 * x0);
        double cx2 = -k / (a * a), c2 = -k / (b * b), c1 = -2 * k * d0 / (b * b);
        double c0 = -k * (d0 * d0 / (b * b) - x0 * x0 / (a * a) - 1);
        return new("hyperbola", c0, c1, c2, cx2, 0, width * Math.Abs(k) * 2 / b);
    }

    /// <summary>A small ellipse inside one cell of an initial n × n lattice, touching none of its nodes.</summary>
    public static SyntheticField Island(Random r, double width, int initial = 5)
    {
        while (true)
        {
            var probe = new SyntheticField("island", 0, 0, 0, 0, 0, 1);
            int cells = initial - 1;
            double cu = (r.Next(cells) + 0.3 + 0.4 * r.NextDouble()) / cells;
            double cv = (r.Next(cells) + 0.3 + 0.4 * r.NextDouble()) / cells;
            double x0 = probe.X(cu), d0 = probe.Delta(cv);
            if (Math.Abs(x0) < 0.05) continue;   // the rewriting divides by x0
            double xCell = (probe.X(1) - probe.X(0)) / cells, dCell = (probe.Delta(1) - probe.Delta(0)) / cells;
            double a = xCell * (0.15 + 0.15 * r.NextDouble()), b = dCell * (0.15 + 0.15 * r.NextDouble());
            var f = Ellipse(x0, d0, a, b, width, "island");
            bool inside = f.At(cu, cv) >= 0.5;
            bool touches = false;
            for (int i = 0; i < initial && !touches; i++)
                for (int j = 0; j < initial && !touches; j++)
                    touches = f.At(i / (double)cells, j / (double)cells) >= 0.5 == inside;
            if (!touches) return f;
        }
    }
}
