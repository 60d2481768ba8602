namespace RichLazyOrleans.Training;

/// <summary>
/// Sample complexity from accuracies measured on a grid of training-set sizes.
/// <see cref="Smallest"/>: the smallest grid size whose accuracy reaches the target (the first
/// crossing in size order, so a noisy curve that dips afterwards still counts); null when none does.
/// <see cref="Interpolated"/>: the size where the straight line through the two bracketing points
/// (the last size below the target and the crossing size), accuracy against log P, meets the
/// target; equal to the first grid size when that one already reaches the target (no
/// extrapolation below the grid), null when none does.
/// </summary>
public sealed record SampleComplexityResult(double? Smallest, double? Interpolated);

public static class SampleComplexity
{
    /// <summary>
    /// Finds the sample complexity; sizes need not be sorted but must be distinct, positive and finite.
    /// </summary>
    public static SampleComplexityResult Find(IReadOnlyList<(double Size, double Accuracy)> curve, double target)
    {
        if (curve.Count == 0) throw new ArgumentException("no (size, accuracy) points");
        if (!double.IsFinite(target))
            throw new ArgumentOutOfRangeException(nameof(target), target, "target accuracy must be finite");
        foreach (var (size, acc) in curve)
        {
            if (!(size > 0) || !double.IsFinite(size))
                throw new ArgumentException($"training size {size} must be positive and finite");
            if (!double.IsFinite(acc)) throw new ArgumentException($"accuracy at size {size} is {acc}");
        }
        var sorted = curve.OrderBy(p => p.Size).ToArray();
        for (int i = 1; i < sorted.Length; i++)
            if (sorted[i].Size == sorted[i - 1].Size)
                throw new ArgumentException($"training size {sorted[i].Size} appears twice");

        int k = Array.FindIndex(sorted, p => p.Accuracy >= target);
        if (k < 0) return new SampleComplexityResult(null, null);
        if (k == 0) return new SampleComplexityResult(sorted[0].Size, sorted[0].Size);
        var (p0, a0) = sorted[k - 1];
        var (p1, a1) = sorted[k];
        // a0 < target ≤ a1, so the fraction lies in (0, 1]; interpolate in log P, where learning
        // curves are roughly linear and the grid is usually geometric.
        double f = (target - a0) / (a1 - a0);
        double logP = Math.Log(p0) + f * (Math.Log(p1) - Math.Log(p0));
        return new SampleComplexityResult(p1, Math.Clamp(Math.Exp(logP), p0, p1));
    }

    /// <summary>
    /// A geometric grid of <paramref name="count"/> integer training sizes from <paramref name="min"/>
    /// to <paramref name="max"/> (both included), rounded to the nearest integer; duplicates that
    /// rounding creates at the small end are dropped, so the grid may hold fewer points.
    /// </summary>
    public static long[] GeometricGrid(long min, long max, int count)
    {
        if (min <= 0 || max < min) throw new ArgumentException($"grid needs 0 < min ≤ max, got {min}..{max}");
        if (count < 1 || (count == 1 && min != max))
            throw new ArgumentException($"a grid from {min} to {max} needs at least 2 points, got {count}");
        if (count == 1) return [min];
        var sizes = new SortedSet<long>();
        double ratio = Math.Log((double)max / min);
        for (int i = 0; i < count; i++)
        {
            long p = i == count - 1 ? max : (long)Math.Round(min * Math.Exp(ratio * i / (count - 1)));
            sizes.Add(Math.Clamp(p, min, max));
        }
        return [.. sizes];
    }
}
