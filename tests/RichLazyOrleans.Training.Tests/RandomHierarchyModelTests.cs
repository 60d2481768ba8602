using System.Numerics;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.Training.Tests;

public class RandomHierarchyModelTests
{
    private static string Key(ReadOnlySpan<int> xs) => string.Join(',', xs.ToArray());

    /// <summary>
    /// An independent decoder built only from the public rule tables: tuple → parent maps per
    /// depth, applied bottom-up. Returns null when a tuple has no parent.
    /// </summary>
    private static int? Decode(RandomHierarchyModel rhm, ReadOnlySpan<int> input)
    {
        var maps = new Dictionary<string, int>[rhm.Depth];
        for (int d = 0; d < rhm.Depth; d++)
        {
            maps[d] = [];
            for (int a = 0; a < rhm.SymbolsAt(d); a++)
            for (int r = 0; r < rhm.Synonyms; r++)
                maps[d].Add(Key(rhm.Rule(d, a, r)), a);   // Add throws on a duplicate tuple
        }
        var level = input.ToArray();
        for (int d = rhm.Depth - 1; d >= 0; d--)
        {
            var up = new int[level.Length / rhm.Branching];
            for (int p = 0; p < up.Length; p++)
            {
                if (!maps[d].TryGetValue(Key(level.AsSpan(p * rhm.Branching, rhm.Branching)), out up[p])) return null;
            }
            level = up;
        }
        return level.Single();
    }

    /// <summary>
    /// Every input the grammar can produce, by recursive expansion over all rule choices (with multiplicity).
    /// </summary>
    private static List<(string Input, int Label)> EnumerateAll(RandomHierarchyModel rhm)
    {
        IEnumerable<int[]> Expand(int depth, int symbol)
        {
            if (depth == rhm.Depth) { yield return [symbol]; yield break; }
            for (int r = 0; r < rhm.Synonyms; r++)
            {
                IEnumerable<int[]> acc = [[]];
                foreach (int child in rhm.Rule(depth, symbol, r))
                {
                    var c = child;
                    acc = acc.SelectMany(prefix => Expand(depth + 1, c).Select(tail => prefix.Concat(tail).ToArray()))
                        .ToList();
                }
                foreach (var x in acc) yield return x;
            }
        }
        var all = new List<(string, int)>();
        for (int y = 0; y < rhm.Classes; y++)
            foreach (var x in Expand(0, y)) all.Add((Key(x), y));
        return all;
    }

    [Theory]
    [InlineData(3, 2, 2, 2, 3)]
    [InlineData(4, 2, 3, 2, 2)]
    [InlineData(8, 3, 2, 4, 8)]
    [InlineData(5, 2, 1, 5, 5)]    // L = 1: m·n_c = v^s = 25, every tuple used
    public void Rules_have_m_distinct_tuples_per_symbol_and_an_unambiguous_inverse(int v, int s, int depth, int m,
        int classes)
    {
        var rhm = new RandomHierarchyModel(v, s, depth, m, seed: 5, classes: classes);
        Assert.Equal((int)Math.Pow(s, depth), rhm.InputLength);
        for (int d = 0; d < depth; d++)
        {
            int parents = d == 0 ? classes : v;
            Assert.Equal(parents, rhm.SymbolsAt(d));
            var tuples = new HashSet<string>();
            for (int a = 0; a < parents; a++)
            for (int r = 0; r < m; r++)
            {
                var t = rhm.Rule(d, a, r);
                Assert.Equal(s, t.Length);
                Assert.All(t, x => Assert.InRange(x, 0, v - 1));
                Assert.True(tuples.Add(Key(t)), $"tuple {Key(t)} used twice at depth {d}");
            }
            Assert.Equal(parents * m, tuples.Count);   // hence tuple → symbol is a function
        }
    }

    [Fact]
    public void Max_dataset_size_matches_brute_force_enumeration()
    {
        // v = 3, s = 2, L = 2, m = 2: 3 internal nodes, P_max = 3·2³ = 24.
        foreach (var (v, s, depth, m, nc, pmax) in new[] { (3, 2, 2, 2, 3, 24), (4, 2, 3, 2, 2, 256),
            (3, 3, 2, 3, 2, 162), (2, 2, 2, 2, 2, 16) })
        {
            var rhm = new RandomHierarchyModel(v, s, depth, m, seed: 1, classes: nc);
            Assert.Equal(new BigInteger(pmax), rhm.MaxDatasetSize);
            var all = EnumerateAll(rhm);
            Assert.Equal(pmax, all.Count);                                // expansions
            Assert.Equal(pmax, all.Select(e => e.Input).Distinct().Count()); // ... all distinct inputs
            // The index ↔ datum bijection covers exactly these inputs, with the right labels.
            var byIndex = Enumerable.Range(0, pmax).Select(i => rhm.Datum(i)).ToList();
            Assert.Equal(all.Select(e => e.Input + ":" + e.Label).Order(),
                byIndex.Select(d => Key(d.Input) + ":" + d.Label).Order());
            for (int i = 0; i < pmax; i++) Assert.Equal(new BigInteger(i), rhm.IndexOf(byIndex[i].Input));
        }
        // Paper sizes: exact big numbers (v = 32, m = 8, s = 2, L = 5: 31 internal nodes).
        var big = new RandomHierarchyModel(32, 2, 5, 8, seed: 1);
        Assert.Equal(31, big.InternalNodes);
        Assert.Equal(32 * BigInteger.Pow(8, 31), big.MaxDatasetSize);
    }

    [Fact]
    public void Every_sample_decodes_bottom_up_to_its_label()
    {
        var rhm = new RandomHierarchyModel(v: 8, s: 2, depth: 3, m: 4, seed: 9);
        var data = rhm.Sample(500, seed: 2);
        Assert.Equal(500, data.Count);
        Assert.Equal(8, data.InputLength);
        for (int n = 0; n < data.Count; n++)
        {
            Assert.Equal(data.Labels[n], Decode(rhm, data.Input(n)));
            Assert.NotNull(rhm.IndexOf(data.Input(n)));
        }
        // Labels are roughly uniform over the 8 classes (500/8 = 62.5 each, sd ≈ 7.4).
        Assert.All(data.Labels.GroupBy(y => y), g => Assert.InRange(g.Count(), 30, 95));
        // A string no tree produces is rejected by both decoders: find a bottom pair that is not a rule.
        var used = Enumerable.Range(0, 8).SelectMany(a => Enumerable.Range(0, 4).Select(r => Key(rhm.Rule(2, a, r))))
            .ToHashSet();
        var unused = Enumerable.Range(0, 64).Select(k => new[] { k / 8, k % 8 }).First(t => !used.Contains(Key(t)));
        var bad = data.Input(0).ToArray();
        bad[0] = unused[0]; bad[1] = unused[1];
        Assert.Null(Decode(rhm, bad));
        Assert.Null(rhm.IndexOf(bad));
    }

    [Fact]
    public void Uniform_sampling_reaches_every_datum_equally()
    {
        // 24 data; 24 000 draws: each expected 1000 times (sd ≈ 31).
        var rhm = new RandomHierarchyModel(3, 2, 2, 2, seed: 4);
        var data = rhm.Sample(24_000, seed: 8);
        var counts = Enumerable.Range(0, data.Count).GroupBy(n => Key(data.Input(n)))
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(24, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 850, 1150));
    }

    [Fact]
    public void Everything_is_determined_by_the_seeds()
    {
        var a = new RandomHierarchyModel(6, 2, 3, 3, seed: 17);
        var b = new RandomHierarchyModel(6, 2, 3, 3, seed: 17);
        var c = new RandomHierarchyModel(6, 2, 3, 3, seed: 18);
        bool sameRules = true, differentRules = false;
        for (int d = 0; d < 3; d++)
        for (int s = 0; s < 6; s++)
        for (int r = 0; r < 3; r++)
        {
            sameRules &= a.Rule(d, s, r).SequenceEqual(b.Rule(d, s, r));
            differentRules |= !a.Rule(d, s, r).SequenceEqual(c.Rule(d, s, r));
        }
        Assert.True(sameRules);
        Assert.True(differentRules);
        Assert.Equal(a.Sample(50, 3).Tokens, b.Sample(50, 3).Tokens);
        Assert.NotEqual(a.Sample(50, 3).Tokens, a.Sample(50, 4).Tokens);
        var (tr1, te1) = a.TrainTest(40, 20, seed: 5);
        var (tr2, te2) = b.TrainTest(40, 20, seed: 5);
        Assert.Equal(tr1.Tokens, tr2.Tokens);
        Assert.Equal(te1.Labels, te2.Labels);
        Assert.NotEqual(tr1.Tokens, a.TrainTest(40, 20, seed: 6).Train.Tokens);
    }

    [Fact]
    public void Train_and_test_are_distinct_disjoint_and_valid()
    {
        var rhm = new RandomHierarchyModel(4, 2, 3, 2, seed: 3, classes: 2);   // P_max = 256
        var (train, test) = rhm.TrainTest(200, 56, seed: 1);                   // all of it
        var trainKeys = Enumerable.Range(0, train.Count).Select(n => Key(train.Input(n))).ToList();
        var testKeys = Enumerable.Range(0, test.Count).Select(n => Key(test.Input(n))).ToList();
        Assert.Equal(200, trainKeys.Distinct().Count());
        Assert.Equal(56, testKeys.Distinct().Count());
        Assert.Empty(trainKeys.Intersect(testKeys));
        Assert.Equal(256, trainKeys.Concat(testKeys).Distinct().Count());
        for (int n = 0; n < train.Count; n++) Assert.Equal(train.Labels[n], Decode(rhm, train.Input(n)));
        for (int n = 0; n < test.Count; n++) Assert.Equal(test.Labels[n], Decode(rhm, test.Input(n)));
        var e = Assert.Throws<ArgumentException>(() => rhm.TrainTest(200, 57, seed: 1));
        Assert.Contains("exceeds the 256 distinct inputs", e.Message);

        // On a huge P_max (rejection-free Floyd over BigInteger indices) still distinct and decodable.
        var big = new RandomHierarchyModel(16, 2, 4, 4, seed: 2);
        var (btr, bte) = big.TrainTest(300, 100, seed: 3);
        var keys = Enumerable.Range(0, 300).Select(n => Key(btr.Input(n)))
            .Concat(Enumerable.Range(0, 100).Select(n => Key(bte.Input(n))));
        Assert.Equal(400, keys.Distinct().Count());
        for (int n = 0; n < bte.Count; n++) Assert.Equal(bte.Labels[n], Decode(big, bte.Input(n)));
    }

    [Fact]
    public void Splits_are_uniform_over_the_data()
    {
        // P_max = 24, train 6 and test 6 out of it: each datum lands in the training set with
        // probability 1/4 and in the test set with 1/4; over 2000 seeds that is 500 ± 19 each.
        // (Floyd's algorithm alone, without the shuffle, puts late indices in the test set too often.)
        var rhm = new RandomHierarchyModel(3, 2, 2, 2, seed: 4);
        var inTrain = new Dictionary<string, int>();
        var inTest = new Dictionary<string, int>();
        for (ulong seed = 0; seed < 2000; seed++)
        {
            var (train, test) = rhm.TrainTest(6, 6, seed);
            for (int n = 0; n < 6; n++)
            {
                inTrain[Key(train.Input(n))] = inTrain.GetValueOrDefault(Key(train.Input(n))) + 1;
                inTest[Key(test.Input(n))] = inTest.GetValueOrDefault(Key(test.Input(n))) + 1;
            }
        }
        Assert.Equal(24, inTrain.Count);
        Assert.Equal(24, inTest.Count);
        Assert.All(inTrain.Values, c => Assert.InRange(c, 420, 580));
        Assert.All(inTest.Values, c => Assert.InRange(c, 420, 580));
    }

    [Fact]
    public void One_hot_layouts_place_ones_where_the_tokens_say()
    {
        var data = new RhmData([2, 0, 1, 1, 2, 0], [0, 1], InputLength: 3, Vocabulary: 3);
        var cf = data.OneHot();                   // (n, v, len)
        var cl = data.OneHot(channelsFirst: false); // (n, len, v)
        Assert.Equal(18, cf.Length);
        Assert.Equal(6.0, cf.Sum());
        Assert.Equal(6.0, cl.Sum());
        // datum 1 = [1, 2, 0]: token 2 at position 1.
        Assert.Equal(1.0, cf[(1 * 3 + 2) * 3 + 1]);
        Assert.Equal(1.0, cl[(1 * 3 + 1) * 3 + 2]);
        Assert.Equal(0.0, cf[(1 * 3 + 1) * 3 + 2]);
    }

    [Fact]
    public void Impossible_grammars_are_refused()
    {
        // m·v = 4·3 = 12 > v^s = 9 (the top, m·n_c = 8, would fit).
        var e = Assert.Throws<ArgumentException>(() => new RandomHierarchyModel(3, 2, 2, 4, seed: 1, classes: 2));
        Assert.Contains("m·v = 12", e.Message);
        // Top level alone: m·n_c = 3·4 = 12 > 9 even with L = 1.
        Assert.Throws<ArgumentException>(() => new RandomHierarchyModel(3, 2, 1, 3, seed: 1, classes: 4));
        // Boundary m·v = v^s is allowed: every tuple is used, and still unambiguous.
        var full = new RandomHierarchyModel(3, 2, 2, 3, seed: 1);
        Assert.Equal(3 * BigInteger.Pow(3, 3), full.MaxDatasetSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomHierarchyModel(3, 1, 2, 1, seed: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomHierarchyModel(3, 2, 0, 1, seed: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomHierarchyModel(3, 2, 2, 0, seed: 1));
    }
}
