namespace RichLazyOrleans.Sweeps;

/// <summary>
/// One grid point of a <see cref="BoundaryPlanner"/>: its seeds, what was told of them, and its statistics, kept
/// up to date on every report (they are read on every proposal). The statistics are computed exactly as they always
/// were (the same sums in the same order), since the planner's choices compare them.
/// </summary>
internal sealed class PlannerPoint(LatticePoint p, int depth, int order, int index, int required)
{
    public LatticePoint P { get; } = p;
    public int Depth { get; } = depth;
    /// <summary>Place of its first run in the proposal sequence.</summary>
    public int Order { get; } = order;
    /// <summary>Place among the planner's points (first proposed first).</summary>
    public int Index { get; } = index;
    public int Required { get; set; } = required;
    public int Vertex { get; set; } = -1;
    public List<long> Seeds { get; } = [];
    public Dictionary<long, double?> Told { get; } = [];
    /// <summary>The finite values told, in the order told.</summary>
    public List<double> Values { get; } = [];
    public bool AllTold => Told.Count == Seeds.Count;

    /// <summary>Mean of the values (NaN without any), its standard error (NaN with fewer than two), how many.</summary>
    public (double Mean, double StdError, int N) Stats { get; private set; } = (double.NaN, double.NaN, 0);
    /// <summary>Sum of squared deviations from the mean (with at least one value).</summary>
    public double Own { get; private set; }

    /// <summary>Records a report; true when it added a value (the statistics changed).</summary>
    public bool Tell(long seed, double? metric)
    {
        Told[seed] = metric;
        if (metric is not { } x || !double.IsFinite(x)) return false;
        Values.Add(x);
        var xs = Values;
        double mean = xs.Average();
        Own = xs.Sum(v => (v - mean) * (v - mean));
        Stats = xs.Count < 2
            ? (mean, double.NaN, 1)
            : (mean, Math.Sqrt(Own / (xs.Count - 1) / xs.Count), xs.Count);
        return true;
    }
}
