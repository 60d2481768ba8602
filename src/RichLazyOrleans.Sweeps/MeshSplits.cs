namespace RichLazyOrleans.Sweeps;

/// <summary>
/// Where to split the mesh next, given the values at its vertices (NaN: unknown): the boundary-seeking choice
/// (a crossing edge of the largest straddling simplex) and the exploring one (the largest simplex, weighted by
/// how its values spread). Candidates are lattice points not yet <paramref name="taken"/>; ties go to the
/// smallest point, so the choice depends on the mesh and values only. The scans over every simplex are what the
/// planner's queues (<see cref="SplitQueues"/>) answer incrementally, with the same per-simplex formulas.
/// </summary>
internal sealed class MeshSplits(Mesh mesh, Func<LatticePoint, bool> taken, double threshold, double variation)
{
    /// <summary>
    /// The midpoint of the longest edge of the simplex with the largest size × (1 + Variation · spread), spread being
    /// the range of its corner values over the range of all values: flat regions are split evenly, and a region whose
    /// values rise toward the threshold (the tail of an island the lattice missed) first.
    /// </summary>
    public LatticePoint? BestExploration(List<int[]> simplices, double[] values)
    {
        double range = Range(values);
        double bestScore = -1;
        LatticePoint best = default;
        foreach (var s in simplices)
        {
            var (a, b, len) = LongestEdge(s);
            double score = ExplorationScore(len, s.Min(v => values[v]), s.Max(v => values[v]), range);
            if (score < bestScore || Midpoint(a, b) is not { } m) continue;
            if (score > bestScore || m.CompareTo(best) < 0) { bestScore = score; best = m; }
        }
        return bestScore < 0 ? null : best;
    }

    /// <summary>The range of the known values (0 with fewer than two).</summary>
    public static double Range(double[] values)
    {
        var known = values.Where(x => !double.IsNaN(x)).ToList();
        return known.Count > 1 ? known.Max() - known.Min() : 0;
    }

    /// <summary>Size × (1 + Variation · spread) of a simplex whose longest edge has squared length
    /// <paramref name="len"/> and whose corner values span [lo, hi] (lo NaN: a corner is unknown).</summary>
    public double ExplorationScore(long len, double lo, double hi, double range)
    {
        double spread = range > 0 && !double.IsNaN(lo) && !double.IsNaN(hi) ? (hi - lo) / range : 0;
        return len * (1 + variation * spread);
    }

    /// <summary>
    /// The midpoint of the longest crossing edge (ends on either side of the threshold) of the straddling simplex with
    /// the largest score: its area (length on one axis), since the misclassified area lies inside straddling simplices.
    /// </summary>
    public LatticePoint? BestCrossingEdge(List<int[]> simplices, double[] values)
    {
        double bestScore = -1;
        LatticePoint best = default;
        foreach (var s in simplices)
        {
            if (CrossingMidpoint(s, values) is not { } mp) continue;
            double score = Size(s);
            if (score < bestScore) continue;
            if (score > bestScore || mp.CompareTo(best) < 0) { bestScore = score; best = mp; }
        }
        return bestScore < 0 ? null : best;
    }

    /// <summary>The new midpoint of a simplex's longest crossing edge (the first such edge, in its vertex order, of
    /// those whose midpoint is new); null when no crossing edge has one.</summary>
    public LatticePoint? CrossingMidpoint(int[] s, double[] values)
    {
        long edgeLen = -1;
        LatticePoint? mid = null;
        double t = threshold;
        for (int k = 0; k < s.Length; k++)
        {
            if (s.Length == 2 && k == 1) break;
            int va = s[k], vb = s[(k + 1) % s.Length];
            if (double.IsNaN(values[va]) || double.IsNaN(values[vb])
                || (values[va] >= t) == (values[vb] >= t)) continue;
            var (a, b) = (mesh[va], mesh[vb]);
            long di = a.I - b.I, dj = a.J - b.J, len = di * di + dj * dj;
            if (len <= edgeLen || Midpoint(a, b) is not { } m) continue;
            edgeLen = len;
            mid = m;
        }
        return mid;
    }

    /// <summary>Area of a triangle, length of an interval (lattice units).</summary>
    public double Size(int[] s)
    {
        if (s.Length == 2) return Math.Abs(mesh[s[1]].I - mesh[s[0]].I);
        var (a, b, c) = (mesh[s[0]], mesh[s[1]], mesh[s[2]]);
        return Math.Abs((double)(b.I - a.I) * (c.J - a.J) - (double)(b.J - a.J) * (c.I - a.I)) / 2;
    }

    /// <summary>Corner values on both sides of the threshold (an unknown corner: not straddling).</summary>
    public static bool Straddles(int[] s, double[] values, double threshold)
    {
        bool any = false, above = false, below = false;
        foreach (int v in s)
        {
            double x = values[v];
            if (double.IsNaN(x)) return false;
            any = true;
            if (x >= threshold) above = true; else below = true;
        }
        return any && above && below;
    }

    public (LatticePoint A, LatticePoint B, long Len2) LongestEdge(int[] s)
    {
        (LatticePoint, LatticePoint, long) best = default;
        best.Item3 = -1;
        for (int k = 0; k < s.Length; k++)
        {
            var a = mesh[s[k]];
            var b = mesh[s[(k + 1) % s.Length]];
            if (s.Length == 2 && k == 1) break;
            long di = a.I - b.I, dj = a.J - b.J, len = di * di + dj * dj;
            var (lo, hi) = a.CompareTo(b) < 0 ? (a, b) : (b, a);
            if (len > best.Item3 || (len == best.Item3 && (lo, hi).CompareTo((best.Item1, best.Item2)) < 0))
                best = (lo, hi, len);
        }
        return best;
    }

    /// <summary>The lattice point halfway along an edge (rounded where the edge's ends differ by an odd amount),
    /// if new.</summary>
    public LatticePoint? Midpoint(LatticePoint a, LatticePoint b)
    {
        int si = a.I + b.I, sj = a.J + b.J;
        foreach (var (di, dj) in new[] { (0, 0), (1, 0), (0, 1), (1, 1) })
        {
            var m = new LatticePoint((si + di) >> 1, (sj + dj) >> 1);
            if (m != a && m != b && !taken(m)) return m;
            if ((si & 1) == 0 && (sj & 1) == 0) break;   // the exact midpoint exists already: nothing to split
        }
        return null;
    }
}
