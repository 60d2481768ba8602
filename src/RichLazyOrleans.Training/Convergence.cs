namespace RichLazyOrleans.Training;

/// <summary>
/// When a full-batch gradient-descent run may stop early (`stop: converged`): every reported metric's predicted change
/// between now and the run's last step must be within max(<see cref="RelTol"/>·|m|, <see cref="AbsTol"/>). Checked
/// every <see cref="CheckEvery"/> steps (<see cref="ConvergenceMonitor"/> has the model).
/// </summary>
/// <param name="Safety">
/// The predicted change is multiplied by this, so the rule still holds when the geometric model underestimates the
/// remaining movement by up to this factor.
/// </param>
/// <param name="Metrics">The metrics watched (null: the kind's default, its metrics that are continuous in θ).</param>
public sealed record ConvergenceRule(
    double RelTol, double AbsTol, long CheckEvery, IReadOnlyList<string>? Metrics = null, double Safety = 2)
{
    /// <summary>Text for a run's fingerprint: a state saved under another rule has other rows.</summary>
    public string Fingerprint() =>
        $"stop=converged/{RelTol:R}/{AbsTol:R}/{CheckEvery}/{Safety:R}/{string.Join(",", Metrics ?? ["default"])}";

    /// <summary>The default check interval: 100 checks over a run, at least 100 steps apart.</summary>
    public static long DefaultCheckEvery(long steps) => Math.Max(100, steps / 100);
}

/// <summary>
/// The arithmetic of <see cref="ConvergenceRule"/>, free of any tensor library (an ask/tell learner: the engine tells
/// it the update size and the metrics every h = CheckEvery steps and asks whether to stop).
/// <para>The model: late in full-batch GD the update sizes u_s = ‖θ_{s+1} − θ_s‖ shrink geometrically,
/// u_s = u_c ρ^(s−c) (near a minimum the slowest mode of I − ηH dominates). ρ is measured over the two windows
/// [c − 2h, c − h] and [c − h, c]; both rates must be below 1 and within a factor 2 of each other (a steady
/// contraction, not a dip on the way into or out of a plateau), and the slower is used. The path still to go to the
/// last step N is then u_c(1 − ρ^(N−c))/(1 − ρ), against u_c ρ^(−h)(1 − ρ^h)/(1 − ρ) travelled over the last h
/// steps; each metric is assumed to change along the rest of the path at most at the rate per unit of path it changed
/// over the last h steps, so its remaining change is |m_c − m_(c−h)| times the ratio of the two lengths,
/// ρ^h(1 − ρ^(N−c))/(1 − ρ^h).</para>
/// </summary>
public sealed class ConvergenceMonitor(ConvergenceRule rule, IReadOnlyList<string> metricNames)
{
    private readonly SortedDictionary<long, double> _norms = new();
    private double[]? _previous, _current;   // metrics at the newest two sampled steps

    public ConvergenceRule Rule { get; } = rule;
    public IReadOnlyList<string> MetricNames { get; } = metricNames;
    private long H => Rule.CheckEvery;

    /// <summary>Whether <paramref name="step"/> is sampled: tell the update out of it and the metrics at it.</summary>
    public bool Samples(long step) => step > 0 && step % H == 0;

    /// <summary>Records u_step = ‖θ_{step+1} − θ_step‖ and the metrics at θ_step (what the next checks need).</summary>
    public void Tell(long step, double norm, double[] metrics)
    {
        if (metrics.Length != MetricNames.Count)
            throw new ArgumentException("one value per metric name", nameof(metrics));
        _norms[step] = norm;
        while (_norms.Count > 3) _norms.Remove(_norms.Keys.First());
        _previous = _norms.ContainsKey(step - H) ? _current : null;
        _current = metrics;
    }

    /// <summary>
    /// Whether the run may stop at <paramref name="step"/> (just told), given it would otherwise run to
    /// <paramref name="finalStep"/>; <paramref name="detail"/> says why or why not in one line.
    /// </summary>
    public bool Converged(long step, long finalStep, out string detail)
    {
        detail = "fewer than three sampled steps";
        if (PathRatio(step, finalStep, out double rate) is not { } ratio || _previous is null || _current is null)
        {
            if (!double.IsNaN(rate)) detail = $"updates not contracting steadily (rate {rate:R})";
            return false;
        }
        string? worst = null;
        double worstRatio = 1;
        for (int i = 0; i < MetricNames.Count; i++)
        {
            double now = _current[i], change = Rule.Safety * ratio * Math.Abs(_current[i] - _previous[i]);
            double tolerance = Math.Max(Rule.RelTol * Math.Abs(now), Rule.AbsTol);
            double r = double.IsFinite(now) && double.IsFinite(change) ? change / tolerance : double.PositiveInfinity;
            if (r > worstRatio) (worstRatio, worst) = (r, $"{MetricNames[i]} {now:G6} may still change by {change:G3}");
        }
        detail = worst is null
            ? $"updates shrink by {rate:R} per step; every metric's predicted change to step {finalStep} "
                + "is within tolerance"
            : $"rate {rate:R}; {worst} ({worstRatio:G3}x its tolerance)";
        return worst is null;
    }

    /// <summary>
    /// The path still to go over the path of the last h steps, ρ^h(1 − ρ^R)/(1 − ρ^h) with R = finalStep − step, or
    /// null when the updates are not contracting steadily; <paramref name="rate"/> is ρ (NaN when not measured).
    /// </summary>
    public double? PathRatio(long step, long finalStep, out double rate)
    {
        rate = double.NaN;
        if (!_norms.TryGetValue(step, out double u0) || !_norms.TryGetValue(step - H, out double u1)
            || !_norms.TryGetValue(step - 2 * H, out double u2)) return null;
        if (u0 == 0) { rate = 0; return 0; }   // an exact stationary point: nothing moves any more
        if (!(u1 > 0 && u2 > 0 && double.IsFinite(u2) && double.IsFinite(u0))) return null;
        double log1 = Math.Log(u0 / u1) / H, log2 = Math.Log(u1 / u2) / H;   // ln ρ over each window
        rate = Math.Exp(Math.Max(log1, log2));
        if (!(log1 < 0 && log2 < 0) || log1 / log2 > 2 || log2 / log1 > 2) return null;
        double lnRho = Math.Max(log1, log2);
        long remaining = Math.Max(0, finalStep - step);
        // ρ^h(1 − ρ^R)/(1 − ρ^h) through expm1, so ρ within 1e-12 of 1 keeps its digits.
        return Math.Exp(H * lnRho) * ExpM1(remaining * lnRho) / ExpM1(H * lnRho);
    }

    /// <summary>e^x − 1 to full relative precision near 0 (.NET's double.ExpM1 is Exp(x) − 1).</summary>
    internal static double ExpM1(double x) =>
        Math.Abs(x) < 1e-5 ? x * (1 + x / 2 * (1 + x / 3)) : Math.Exp(x) - 1;

    /// <summary>The monitor's part of a saved state: norms as (step, u) pairs, then the two metric rows.</summary>
    public double[] Save() =>
    [
        _norms.Count, .. _norms.SelectMany(kv => new[] { (double)kv.Key, kv.Value }),
        _previous is null ? 0 : 1, .. _previous ?? [], _current is null ? 0 : 1, .. _current ?? [],
    ];

    /// <summary>Restores what <see cref="Save"/> wrote (an empty array: a fresh monitor).</summary>
    public void Restore(double[] saved)
    {
        _norms.Clear();
        _previous = _current = null;
        if (saved.Length == 0) return;
        try
        {
            int i = 0, count = (int)saved[i++];
            for (int k = 0; k < count; k++, i += 2) _norms[(long)saved[i]] = saved[i + 1];
            double[]? Row() => saved[i++] == 0 ? null : saved[i..(i += MetricNames.Count)];
            _previous = Row();
            _current = Row();
            if (i == saved.Length) return;
        }
        catch (ArgumentOutOfRangeException) { }
        catch (IndexOutOfRangeException) { }
        throw new InvalidOperationException("saved convergence state has the wrong length");
    }
}
