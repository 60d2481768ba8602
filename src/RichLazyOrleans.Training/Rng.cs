namespace RichLazyOrleans.Training;

/// <summary>
/// A small deterministic generator (xoshiro256** seeded through SplitMix64), so data, teacher and
/// init depend only on the seed and never on the libtorch version or thread count. Independent
/// streams for different purposes come from (seed, stream) pairs.
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spare;

    public Rng(ulong seed, ulong stream = 0)
    {
        ulong x = seed ^ (0x9E3779B97F4A7C15UL * (stream + 1));
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3; _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Standard normal (Marsaglia's polar method).</summary>
    public double NextGaussian()
    {
        if (_spare is { } s) { _spare = null; return s; }
        double u, v, q;
        do
        {
            u = 2 * NextDouble() - 1;
            v = 2 * NextDouble() - 1;
            q = u * u + v * v;
        } while (q >= 1 || q == 0);
        double f = Math.Sqrt(-2 * Math.Log(q) / q);
        _spare = v * f;
        return u * f;
    }

    /// <summary>±1 with equal probability.</summary>
    public double NextSign() => (NextUInt64() >> 63) == 0 ? 1.0 : -1.0;

    /// <summary>A point uniform on the unit sphere S^{d−1}: a normalised Gaussian vector.</summary>
    public void NextOnSphere(Span<double> x)
    {
        double norm;
        do
        {
            double ss = 0;
            for (int i = 0; i < x.Length; i++) { x[i] = NextGaussian(); ss += x[i] * x[i]; }
            norm = Math.Sqrt(ss);
        } while (norm == 0);
        for (int i = 0; i < x.Length; i++) x[i] /= norm;
    }

    /// <summary>
    /// A permutation of 0 … n−1 by Fisher-Yates (j = NextUInt64 mod (i + 1), from the top). The
    /// modulo's bias is below n/2⁶⁴; the exact draw order is part of every saved run's trajectory,
    /// so it must not change.
    /// </summary>
    public long[] Permutation(int n)
    {
        var perm = new long[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)(NextUInt64() % (ulong)(i + 1));
            (perm[i], perm[j]) = (perm[j], perm[i]);
        }
        return perm;
    }
}
