namespace RichLazyOrleans.Sweeps;

/// <summary>
/// `planner: random`: a space-filling design of refine.budget distinct lattice points at the finest spacing (without
/// a budget, or without refine, as many as the initial lattice has), for sweeps whose results should not lean on
/// any guess of where the boundary lies. The initial lattice is not forced.
/// <para>
/// The design is an Owen-scrambled Sobol sequence (dimensions 1 and 2), each point snapped to the lattice point
/// whose equal-width bin holds it; a point landing on one taken already is skipped for the next. Why Sobol rather
/// than a Latin hypercube: every prefix of a (0, 2)-sequence is evenly spread (its first 2^m points put exactly one
/// point in each dyadic box of area 2^−m), so the proposal order itself fills the space and a sweep cut short is
/// still a fair sample, and skipping a collision just takes the next point, which a fixed-size hypercube cannot.
/// Scrambling (Burley's hash-based nested scramble, which keeps those properties) removes plain Sobol's alignment
/// with the axes. The scramble is seeded from the sweep's name by a fixed hash, never from a clock or a process's
/// randomised string hash: the design is a pure function of the spec, so a restored coordinator proposes the same
/// runs.
/// </para>
/// </summary>
public sealed class RandomPlanner(SweepSpec spec) : DesignPlanner(spec)
{
    protected override string Name => "random";

    /// <summary>Points in the design: the budget given, else the initial lattice's count.</summary>
    public static long DesignPoints(SweepSpec spec) =>
        spec.Refine is { Budget: > 0 } r ? r.Budget : spec.InitialPoints;

    /// <summary>The registry's spec check: the design's point count, or a one-line refusal.</summary>
    public static long GridPoints(SweepSpec spec)
    {
        long count = DesignPoints(spec), full = FullLatticePoints(spec);
        if (count > full)
            throw new SpecException($"key 'refine.budget': planner 'random' picks {count} distinct lattice "
                + $"points, more than the {full} the lattice has at max_depth {spec.Refine?.MaxDepth ?? 0}");
        return count;
    }

    protected override IReadOnlyList<LatticePoint> MakeDesign()
    {
        long count = DesignPoints(Spec);
        ulong key = Fnv1a(Spec.Name);
        // One independent scramble per axis: FNV's low bits mix poorly, so each seed goes through a finaliser.
        uint seedU = (uint)Mix(key), seedV = (uint)Mix(key + 0x9e3779b97f4a7c15UL);
        int bins0 = Lattice.Extent[0] + 1, bins1 = Lattice.Dims == 2 ? Lattice.Extent[1] + 1 : 1;
        var design = new List<LatticePoint>();
        var taken = new HashSet<LatticePoint>();
        // Every lattice bin holds a dyadic box that the first 2^m Sobol points (2^m < 16 × the lattice's points)
        // each hit once, so this ends well before the 32-bit index runs out; the bound only guards that argument.
        for (ulong index = 0; design.Count < count; index++)
        {
            if (index > uint.MaxValue) throw new InvalidOperationException("the Sobol sequence ran out of points");
            uint u = Scramble(ReverseBits((uint)index), seedU);
            uint v = Lattice.Dims == 2 ? Scramble(SobolSecond((uint)index), seedV) : 0;
            var p = new LatticePoint(Bin(u, bins0), Bin(v, bins1));
            if (taken.Add(p)) design.Add(p);
        }
        return design;
    }

    /// <summary>The bin of a 32-bit fraction among <paramref name="bins"/> equal ones (each lattice point gets the
    /// same share of the axis, the end points included).</summary>
    private static int Bin(uint x, int bins) => (int)((ulong)x * (ulong)bins >> 32);

    /// <summary>Sobol's second dimension (primitive polynomial x + 1): direction numbers V_k = V_{k−1} ⊕
    /// (V_{k−1} ≫ 1), V_0 = 2^31 (Pascal's triangle mod 2); the first dimension is the bit reversal of the
    /// index.</summary>
    private static uint SobolSecond(uint index)
    {
        uint x = 0, v = 1u << 31;
        for (; index != 0; index >>= 1, v ^= v >> 1)
            if ((index & 1) != 0) x ^= v;
        return x;
    }

    /// <summary>Nested uniform (Owen) scramble of a 32-bit fraction, Burley 2020 ("Practical hash-based Owen
    /// scrambling"): in bit-reversed order, every step changes a bit only as a function of the bits below it, so each
    /// dyadic interval maps onto one of the same size and the net properties survive.</summary>
    private static uint Scramble(uint x, uint seed)
    {
        x = ReverseBits(x);
        x ^= x * 0x3d20adeau;
        x += seed;
        x *= (seed >> 16) | 1;
        x ^= x * 0x05526c56u;
        x ^= x * 0x53a22864u;
        return ReverseBits(x);
    }

    private static uint ReverseBits(uint x)
    {
        x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
        x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
        x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
        x = ((x >> 8) & 0x00ff00ffu) | ((x & 0x00ff00ffu) << 8);
        return (x >> 16) | (x << 16);
    }

    /// <summary>SplitMix64's finaliser: every input bit reaches every output bit.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }

    /// <summary>64-bit FNV-1a of the name's UTF-16 code units: fixed across processes and runtimes, unlike
    /// string.GetHashCode, which .NET randomises per process.</summary>
    private static ulong Fnv1a(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in s) h = (h ^ c) * 1099511628211UL;
        return h;
    }
}
