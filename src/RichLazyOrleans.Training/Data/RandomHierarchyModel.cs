using System.Buffers.Binary;
using System.Numerics;

namespace RichLazyOrleans.Training;

/// <summary>
/// Sampled RHM data: <see cref="Tokens"/> holds <see cref="Count"/> strings of
/// <see cref="InputLength"/> symbols in [0, <see cref="Vocabulary"/>), row after row;
/// <see cref="Labels"/> their classes.
/// </summary>
public sealed record RhmData(int[] Tokens, int[] Labels, int InputLength, int Vocabulary)
{
    public int Count => Labels.Length;

    public ReadOnlySpan<int> Input(int i) => Tokens.AsSpan(i * InputLength, InputLength);

    /// <summary>
    /// One-hot float64 inputs, flat in C order: (count, v, length) when <paramref name="channelsFirst"/>
    /// (Conv1d's (N, C, L), vocabulary as channels), else (count, length, v) (position-major, to flatten for an MLP).
    /// </summary>
    public double[] OneHot(bool channelsFirst = true)
    {
        int len = InputLength, v = Vocabulary;
        var x = new double[checked(Count * len * v)];
        for (int n = 0; n < Count; n++)
        for (int p = 0; p < len; p++)
        {
            int t = Tokens[n * len + p];
            x[channelsFirst ? (n * v + t) * len + p : (n * len + p) * v + t] = 1.0;
        }
        return x;
    }
}

/// <summary>
/// The random hierarchy model (Cagnetta, Petrini, Tomasini, Favero, Wyart, "How deep neural networks
/// learn compositional data: the random hierarchy model", Phys. Rev. X 14, 031001, 2024).
/// <para>
/// A class (one of n_c) is the root of a tree of depth L and branching s. Each symbol at depth d
/// (the class at d = 0, a symbol of a vocabulary of size v below) is rewritten by one of its m
/// synonymous production rules into an s-tuple of depth-(d+1) symbols; after L rewrites the s^L
/// leaves are the input. Rules are drawn once from the seed: at each depth, the n·m tuples
/// (n = n_c at the top, v below) are distinct, drawn uniformly without replacement from the v^s
/// possible ones and dealt m to each symbol, so every tuple has at most one parent and the input
/// determines the whole tree (and the label). Hence m·v ≤ v^s (and m·n_c ≤ v^s) is required.
/// </para>
/// <para>
/// Distinct inputs: a datum is a class and one rule choice at each of the (s^L − 1)/(s − 1)
/// internal nodes, and distinct choices give distinct inputs, so P_max = n_c·m^((s^L−1)/(s−1)).
/// A datum is indexed by the mixed-radix number index = class + n_c·(choices in base m,
/// breadth-first, left to right); uniform sampling of data without replacement is uniform
/// sampling of distinct indices.
/// </para>
/// </summary>
public sealed class RandomHierarchyModel
{
    // Rng streams, so the rules, i.i.d. samples and train/test splits never share random numbers
    // even when the same seed is passed to all three.
    private const ulong RulesStream = 0x52484D_01, SampleStream = 0x52484D_02, SplitStream = 0x52484D_03;

    private readonly int[][][][] _rules;   // [depth][symbol][rule] → s-tuple of depth+1 symbols

    public int Vocabulary { get; }
    public int Classes { get; }
    public int Branching { get; }
    public int Depth { get; }
    public int Synonyms { get; }
    public ulong Seed { get; }

    /// <summary>Input length s^L.</summary>
    public int InputLength { get; }

    /// <summary>Internal nodes of the tree, (s^L − 1)/(s − 1): one rule choice each.</summary>
    public int InternalNodes { get; }

    /// <summary>
    /// Number of distinct inputs, n_c·m^((s^L−1)/(s−1)) (exact; it is astronomically large for paper sizes).
    /// </summary>
    public BigInteger MaxDatasetSize { get; }

    /// <param name="v">vocabulary size at every level below the root</param>
    /// <param name="s">branching (tuple length), ≥ 2</param>
    /// <param name="depth">L, ≥ 1</param>
    /// <param name="m">synonymous rules per symbol, ≥ 1</param>
    /// <param name="seed">seed of the rules</param>
    /// <param name="classes">n_c; v when null</param>
    public RandomHierarchyModel(int v, int s, int depth, int m, ulong seed, int? classes = null)
    {
        int nc = classes ?? v;
        if (v < 2) throw new ArgumentOutOfRangeException(nameof(v), v, "RHM vocabulary v must be ≥ 2");
        if (s < 2) throw new ArgumentOutOfRangeException(nameof(s), s, "RHM branching s must be ≥ 2");
        if (depth < 1) throw new ArgumentOutOfRangeException(nameof(depth), depth, "RHM depth L must be ≥ 1");
        if (m < 1) throw new ArgumentOutOfRangeException(nameof(m), m, "RHM synonyms m must be ≥ 1");
        if (nc < 1) throw new ArgumentOutOfRangeException(nameof(classes), nc, "RHM classes n_c must be ≥ 1");
        BigInteger tuples = BigInteger.Pow(v, s);
        if ((BigInteger)m * nc > tuples)
            throw new ArgumentException($"RHM: m·n_c = {(long)m * nc} rules exceed the v^s = {tuples} distinct " +
                $"{s}-tuples; rules could not be unambiguous");
        if (depth >= 2 && (BigInteger)m * v > tuples)
            throw new ArgumentException($"RHM: m·v = {(long)m * v} rules exceed the v^s = {tuples} distinct " +
                $"{s}-tuples; rules could not be unambiguous (need m ≤ v^(s−1))");
        BigInteger len = BigInteger.Pow(s, depth);
        if (len > 1 << 24) throw new ArgumentException($"RHM: input length s^L = {len} is too long (at most 2^24)");

        Vocabulary = v; Classes = nc; Branching = s; Depth = depth; Synonyms = m; Seed = seed;
        InputLength = (int)len;
        InternalNodes = (InputLength - 1) / (s - 1);
        MaxDatasetSize = nc * BigInteger.Pow(m, InternalNodes);

        var rng = new Rng(seed, RulesStream);
        _rules = new int[depth][][][];
        for (int d = 0; d < depth; d++)
        {
            int parents = SymbolsAt(d);
            var picked = DistinctIndices(rng, tuples, parents * m);
            _rules[d] = new int[parents][][];
            for (int a = 0; a < parents; a++)
            {
                _rules[d][a] = new int[m][];
                for (int r = 0; r < m; r++) _rules[d][a][r] = TupleDigits(picked[a * m + r], v, s);
            }
        }
    }

    /// <summary>Number of symbols that are rewritten at depth d: n_c at the root, v below.</summary>
    public int SymbolsAt(int depth) => depth == 0 ? Classes : Vocabulary;

    /// <summary>
    /// The s-tuple that rule <paramref name="rule"/> of <paramref name="symbol"/> at <paramref name="depth"/> produces
    /// (a copy).
    /// </summary>
    public int[] Rule(int depth, int symbol, int rule) => (int[])_rules[depth][symbol][rule].Clone();

    /// <summary>The datum with the given index in [0, P_max) (see the class remarks).</summary>
    public (int[] Input, int Label) Datum(BigInteger index)
    {
        if (index < 0 || index >= MaxDatasetSize)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"index must lie in [0, {MaxDatasetSize})");
        var input = new int[InputLength];
        int label = (int)(index % Classes);
        BigInteger rest = index / Classes;
        Expand(label, () => { int c = (int)(rest % Synonyms); rest /= Synonyms; return c; }, input);
        return (input, label);
    }

    /// <summary>
    /// <paramref name="count"/> i.i.d. data (with replacement): a uniform class, each symbol
    /// rewritten by a uniform one of its m rules.
    /// </summary>
    public RhmData Sample(int count, ulong seed)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be ≥ 0");
        var rng = new Rng(seed, SampleStream);
        var tokens = new int[checked(count * InputLength)];
        var labels = new int[count];
        for (int n = 0; n < count; n++)
        {
            labels[n] = (int)Uniform(rng, (ulong)Classes);
            Expand(labels[n], () => (int)Uniform(rng, (ulong)Synonyms), tokens.AsSpan(n * InputLength, InputLength));
        }
        return new RhmData(tokens, labels, InputLength, Vocabulary);
    }

    /// <summary>
    /// A training set of <paramref name="trainSize"/> distinct data and a test set of
    /// <paramref name="testSize"/> further distinct data, none in the training set: one uniform
    /// sample of trainSize + testSize distinct indices, shuffled, then split. The training set of
    /// a seed is not a prefix of a larger one's; use the same seed across sizes only if that is fine.
    /// </summary>
    public (RhmData Train, RhmData Test) TrainTest(int trainSize, int testSize, ulong seed)
    {
        if (trainSize < 0 || testSize < 0)
            throw new ArgumentOutOfRangeException(nameof(trainSize), "sizes must be ≥ 0");
        long total = (long)trainSize + testSize;
        if (total > MaxDatasetSize)
            throw new ArgumentException(
                $"RHM: train + test = {total} exceeds the {MaxDatasetSize} distinct inputs (P_max)");
        var rng = new Rng(seed, SplitStream);
        var indices = DistinctIndices(rng, MaxDatasetSize, (int)total);
        return (Build(indices.AsSpan(0, trainSize)), Build(indices.AsSpan(trainSize)));
    }

    /// <summary>
    /// The datum index of an input (inverse of <see cref="Datum"/>), or null when no tree produces it.
    /// </summary>
    public BigInteger? IndexOf(ReadOnlySpan<int> input)
    {
        if (input.Length != InputLength) return null;
        // Reduce bottom-up with tuple → (parent, rule) maps, collecting rule choices per depth.
        var level = input.ToArray();
        var choicesByDepth = new int[Depth][];
        for (int d = Depth - 1; d >= 0; d--)
        {
            var parents = new int[level.Length / Branching];
            var choices = new int[parents.Length];
            for (int p = 0; p < parents.Length; p++)
            {
                var found = Lookup(d, level.AsSpan(p * Branching, Branching));
                if (found is not { } f) return null;
                (parents[p], choices[p]) = f;
            }
            choicesByDepth[d] = choices;
            level = parents;
        }
        BigInteger rest = 0, weight = 1;
        for (int d = 0; d < Depth; d++)
            foreach (int c in choicesByDepth[d]) { rest += weight * c; weight *= Synonyms; }
        return level[0] + Classes * rest;
    }

    // ---- internals -------------------------------------------------------------------------

    private Dictionary<long, (int Parent, int Rule)>[]? _inverse;

    private (int Parent, int Rule)? Lookup(int depth, ReadOnlySpan<int> tuple)
    {
        _inverse ??= BuildInverse();
        long key = 0;
        foreach (int t in tuple)
        {
            if ((uint)t >= (uint)Vocabulary) return null;
            key = key * Vocabulary + t;
        }
        return _inverse[depth].TryGetValue(key, out var hit) ? hit : null;
    }

    private Dictionary<long, (int, int)>[] BuildInverse()
    {
        var inv = new Dictionary<long, (int, int)>[Depth];
        for (int d = 0; d < Depth; d++)
        {
            inv[d] = [];
            for (int a = 0; a < _rules[d].Length; a++)
            for (int r = 0; r < Synonyms; r++)
                inv[d].Add(_rules[d][a][r].Aggregate(0L, (k, t) => k * Vocabulary + t), (a, r));
        }
        return inv;
    }

    /// <summary>Rewrites the class breadth-first, left to right, taking one rule choice per node.</summary>
    private void Expand(int label, Func<int> choose, Span<int> output)
    {
        var level = new List<int> { label };
        for (int d = 0; d < Depth; d++)
        {
            var next = new List<int>(level.Count * Branching);
            foreach (int a in level) next.AddRange(_rules[d][a][choose()]);
            level = next;
        }
        level.CopyTo(output);
    }

    private RhmData Build(ReadOnlySpan<BigInteger> indices)
    {
        var tokens = new int[checked(indices.Length * InputLength)];
        var labels = new int[indices.Length];
        for (int n = 0; n < indices.Length; n++)
        {
            var (input, label) = Datum(indices[n]);
            input.CopyTo(tokens, n * InputLength);
            labels[n] = label;
        }
        return new RhmData(tokens, labels, InputLength, Vocabulary);
    }

    private static int[] TupleDigits(BigInteger index, int v, int s)
    {
        var t = new int[s];
        for (int p = s - 1; p >= 0; p--) { t[p] = (int)(index % v); index /= v; }
        return t;
    }

    /// <summary>
    /// <paramref name="k"/> distinct uniform integers in [0, n), in uniformly random order: Floyd's
    /// algorithm (k draws, O(k) memory, whatever n is) followed by a Fisher–Yates shuffle, since
    /// Floyd's insertion order is not itself uniform.
    /// </summary>
    internal static BigInteger[] DistinctIndices(Rng rng, BigInteger n, int k)
    {
        if (k < 0 || k > n)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"cannot draw {k} distinct integers below {n}");
        var seen = new HashSet<BigInteger>(k);
        var list = new List<BigInteger>(k);
        for (BigInteger j = n - k; j < n; j++)
        {
            var t = Uniform(rng, j + 1);
            if (seen.Add(t)) list.Add(t);
            else { seen.Add(j); list.Add(j); }
        }
        var a = list.ToArray();
        for (int i = a.Length - 1; i > 0; i--)
        {
            int r = (int)Uniform(rng, (ulong)(i + 1));
            (a[i], a[r]) = (a[r], a[i]);
        }
        return a;
    }

    /// <summary>Unbiased uniform integer in [0, n) (Lemire's multiply-shift with rejection).</summary>
    internal static ulong Uniform(Rng rng, ulong n)
    {
        if (n == 0) throw new ArgumentOutOfRangeException(nameof(n));
        UInt128 prod = (UInt128)rng.NextUInt64() * n;
        ulong low = (ulong)prod;
        if (low < n)
        {
            ulong threshold = (0UL - n) % n;
            while (low < threshold)
            {
                prod = (UInt128)rng.NextUInt64() * n;
                low = (ulong)prod;
            }
        }
        return (ulong)(prod >> 64);
    }

    /// <summary>
    /// Unbiased uniform integer in [0, n) for any n: 64-bit path when it fits, else masked rejection.
    /// </summary>
    internal static BigInteger Uniform(Rng rng, BigInteger n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n));
        if (n <= ulong.MaxValue) return Uniform(rng, (ulong)n);
        // Draw just enough bits for n − 1 and reject values ≥ n: fewer than 2 tries on average.
        long bits = (long)(n - 1).GetBitLength();
        int words = (int)((bits + 63) / 64);
        var mask = (BigInteger.One << (int)bits) - 1;
        var bytes = new byte[words * 8];
        while (true)
        {
            for (int w = 0; w < words; w++)
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(w * 8, 8), rng.NextUInt64());
            var x = new BigInteger(bytes, isUnsigned: true) & mask;
            if (x < n) return x;
        }
    }
}
