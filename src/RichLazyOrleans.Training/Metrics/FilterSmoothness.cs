namespace RichLazyOrleans.Training;

/// <summary>
/// How smooth a convolution filter is: the share of its energy in low spatial frequencies.
/// <para>
/// For an h × w filter x (row-major), F(u, v) = Σ_{i,j} x[i,j] e^{−2πi(ui/h + vj/w)} is its 2-D DFT
/// (unnormalised, so Parseval reads Σ|F|² = h·w·Σx²). Frequency (u, v) has signed indices
/// f_u ∈ (−h/2, h/2] and f_v ∈ (−w/2, w/2], and relative radius
/// r = sqrt((f_u/(h/2))² + (f_v/(w/2))²): 1 on an axis at the Nyquist frequency, so a
/// checkerboard sits at √2. It is low when r ≤ cutoff (a fraction of Nyquist; default ½; for a
/// square k × k filter: index radius sqrt(f_u² + f_v²) ≤ cutoff·k/2).
/// </para>
/// <para>
/// DC is excluded: each filter's mean is removed first (which also sends the rounding error of
/// the mean into the discarded DC bin), so a constant offset counts as neither smooth nor rough
/// and score = Σ_{low, non-DC}|F|² / Σ_{non-DC}|F|² ∈ [0, 1]. A filter that is constant (or zero)
/// has no such energy and its score is NaN ("undefined"), never 0 or 1; "constant" means the
/// non-DC energy is below 1e−24 of the total (amplitude 1e−12), far above rounding.
/// </para>
/// <para>
/// Chance level: a filter of i.i.d. Gaussian entries scores Beta(L/2, (N−1−L)/2), mean L/(N−1),
/// with N = h·w and L the number of low non-DC frequencies (the low band is symmetric under
/// (u, v) → (−u, −v), so it spans an L-dimensional real subspace); see <see cref="WhiteNoiseBaseline"/>.
/// </para>
/// </summary>
public static class FilterSmoothness
{
    /// <summary>Default low-band radius as a fraction of the Nyquist frequency.</summary>
    public const double DefaultCutoff = 0.5;

    /// <summary>Non-DC energy below this fraction of the total means "constant filter": score NaN.</summary>
    public const double ConstantTolerance = 1e-24;

    /// <summary>|F(u, v)|² for u ∈ [0, h), v ∈ [0, w), row-major (index u·w + v), by the direct O((hw)²) DFT.</summary>
    public static double[] PowerSpectrum(ReadOnlySpan<double> filter, int h, int w)
    {
        CheckShape(filter.Length, h, w);
        int n = h * w;
        // Twiddles on the common grid 2πk/(h·w): the phase ui/h + vj/w = ((ui mod h)·w + (vj mod w)·h)/(hw)
        // is reduced exactly in integers, and CosPi/SinPi give exact 0 and ±1 at quarter turns.
        var cos = new double[n];
        var sin = new double[n];
        for (int k = 0; k < n; k++)
        {
            double t = 2.0 * k / n;
            cos[k] = double.CosPi(t);
            sin[k] = double.SinPi(t);
        }
        var power = new double[n];
        for (int u = 0; u < h; u++)
        for (int v = 0; v < w; v++)
        {
            var re = new Neumaier();
            var im = new Neumaier();
            for (int i = 0; i < h; i++)
            {
                int rowPhase = (u * i % h) * w;
                for (int j = 0; j < w; j++)
                {
                    int k = (rowPhase + (v * j % w) * h) % n;
                    double x = filter[i * w + j];
                    re.Add(x * cos[k]);
                    im.Add(-x * sin[k]);
                }
            }
            double a = re.Sum, b = im.Sum;
            power[u * w + v] = a * a + b * b;
        }
        return power;
    }

    /// <summary>Relative radius r(u, v) of DFT bin (u, v) (r = 1 on an axis at Nyquist).</summary>
    public static double RelativeRadius(int u, int v, int h, int w)
    {
        double fu = Signed(u, h), fv = Signed(v, w);
        return 2 * Math.Sqrt(fu * fu / ((double)h * h) + fv * fv / ((double)w * w));
    }

    /// <summary>
    /// Whether bin (u, v) is in the low band: not DC and r ≤ cutoff. Decided in integers,
    /// 4(f_u²w² + f_v²h²) ≤ cutoff²h²w², so bins exactly on the cutoff (r = ½ for k = 4) count as low.
    /// </summary>
    public static bool IsLow(int u, int v, int h, int w, double cutoff = DefaultCutoff)
    {
        long fu = Signed(u, h), fv = Signed(v, w);
        if (fu == 0 && fv == 0) return false;
        long lhs = 4 * (fu * fu * w * w + fv * fv * h * h);
        return lhs <= cutoff * cutoff * ((double)h * h) * ((double)w * w);
    }

    /// <summary>Number of low non-DC bins, L.</summary>
    public static int LowFrequencyCount(int h, int w, double cutoff = DefaultCutoff)
    {
        int count = 0;
        for (int u = 0; u < h; u++)
        for (int v = 0; v < w; v++)
            if (IsLow(u, v, h, w, cutoff)) count++;
        return count;
    }

    /// <summary>Expected score of an i.i.d. Gaussian filter, L/(N − 1): the value at a random init.</summary>
    public static double WhiteNoiseBaseline(int h, int w, double cutoff = DefaultCutoff)
    {
        CheckCutoff(h, w, cutoff);
        return LowFrequencyCount(h, w, cutoff) / (double)(h * w - 1);
    }

    /// <summary>
    /// The smoothness score of one h × w filter (row-major); NaN for a constant filter or one holding NaN/∞.
    /// </summary>
    public static double Score(ReadOnlySpan<double> filter, int h, int w, double cutoff = DefaultCutoff)
    {
        CheckShape(filter.Length, h, w);
        CheckCutoff(h, w, cutoff);
        var total = new Neumaier();
        var sum = new Neumaier();
        foreach (double x in filter)
        {
            if (!double.IsFinite(x)) return double.NaN;
            sum.Add(x);
        }
        double mean = sum.Sum / filter.Length;
        var centred = new double[filter.Length];
        for (int i = 0; i < centred.Length; i++)
        {
            centred[i] = filter[i] - mean;
            total.Add(filter[i] * filter[i]);
        }
        var power = PowerSpectrum(centred, h, w);
        var low = new Neumaier();
        var all = new Neumaier();
        for (int u = 0; u < h; u++)
        for (int v = 0; v < w; v++)
        {
            if (u == 0 && v == 0) continue;
            double p = power[u * w + v];
            all.Add(p);
            if (IsLow(u, v, h, w, cutoff)) low.Add(p);
        }
        // Parseval: the unnormalised DFT's energy is N·Σx²; compare like with like.
        if (all.Sum <= ConstantTolerance * filter.Length * total.Sum) return double.NaN;
        return Math.Clamp(low.Sum / all.Sum, 0.0, 1.0);
    }

    /// <summary>
    /// Mean score over <paramref name="filters"/> consecutive h × w filters (a conv weight
    /// [out, in, h, w] has out·in of them), each filter weighted equally; constant filters are
    /// skipped; NaN when every filter is constant.
    /// </summary>
    public static double LayerScore(ReadOnlySpan<double> weights, int filters, int h, int w,
        double cutoff = DefaultCutoff)
    {
        if (filters <= 0) throw new ArgumentOutOfRangeException(nameof(filters), filters, "need at least one filter");
        if (weights.Length != (long)filters * h * w)
            throw new ArgumentException(
                $"{filters} filters of {h}x{w} need {(long)filters * h * w} values, got {weights.Length}");
        var sum = new Neumaier();
        int counted = 0;
        for (int f = 0; f < filters; f++)
        {
            double s = Score(weights.Slice(f * h * w, h * w), h, w, cutoff);
            if (double.IsNaN(s)) continue;
            sum.Add(s);
            counted++;
        }
        return counted == 0 ? double.NaN : sum.Sum / counted;
    }

    private static int Signed(int u, int n) => 2 * u <= n ? u : u - n;

    private static void CheckShape(int length, int h, int w)
    {
        if (h <= 0 || w <= 0) throw new ArgumentException($"filter shape {h}x{w} must be positive");
        if (length != h * w) throw new ArgumentException($"filter of shape {h}x{w} needs {h * w} values, got {length}");
    }

    /// <summary>
    /// A cutoff that puts no non-DC bin, or every one, in the low band makes the score constant: refuse it.
    /// </summary>
    private static void CheckCutoff(int h, int w, double cutoff)
    {
        if (!(cutoff > 0) || double.IsInfinity(cutoff)) throw new ArgumentOutOfRangeException(nameof(cutoff), cutoff,
            "cutoff must be a positive fraction of Nyquist");
        if (h * w == 1) throw new ArgumentException("a 1x1 filter has no spatial frequencies besides DC");
        int low = LowFrequencyCount(h, w, cutoff);
        double smallest = double.PositiveInfinity, largest = 0;
        for (int u = 0; u < h; u++)
        for (int v = 0; v < w; v++)
        {
            if (u == 0 && v == 0) continue;
            double r = RelativeRadius(u, v, h, w);
            smallest = Math.Min(smallest, r);
            largest = Math.Max(largest, r);
        }
        if (low == 0)
            throw new ArgumentOutOfRangeException(nameof(cutoff), cutoff,
                $"cutoff {cutoff} of Nyquist puts no frequency of a {h}x{w} filter in the low band " +
                $"(score always 0); use at least {smallest:0.###}");
        if (low == h * w - 1)
            throw new ArgumentOutOfRangeException(nameof(cutoff), cutoff,
                $"cutoff {cutoff} of Nyquist puts every frequency of a {h}x{w} filter in the low band " +
                $"(score always 1); use less than {largest:0.###}");
    }
}

/// <summary>Neumaier's compensated summation: error O(ε) independent of the number of terms.</summary>
internal struct Neumaier
{
    private double _sum, _c;

    public void Add(double x)
    {
        double t = _sum + x;
        _c += Math.Abs(_sum) >= Math.Abs(x) ? (_sum - t) + x : (x - t) + _sum;
        _sum = t;
    }

    public readonly double Sum => _sum + _c;
}
