using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RichLazyOrleans.Sweeps;

/// <summary>The spec's sections beyond its axes: planner, refinement, seeds, and the integer-axis check.</summary>
public sealed partial record SweepSpec
{
    /// <summary>`planner: NAME`, a name in <see cref="PlannerRegistry"/>; the default without the key.</summary>
    private static PlannerEntry ParsePlanner(YamlNode? node)
    {
        if (node is null) return PlannerRegistry.Get(PlannerRegistry.Default);
        string known = string.Join(", ", PlannerRegistry.Names);
        if (node is not YamlScalarNode { Value: { Length: > 0 } name })
            throw new SpecException($"key 'planner' must be a planner's name (known: {known})");
        return PlannerRegistry.Find(name)
            ?? throw new SpecException($"key 'planner': unknown planner '{name}' (known: {known})");
    }

    /// <summary>
    /// `refine: { metric, threshold, max_depth, budget }`. A planner that refines needs all four; one that does not
    /// (a fixed design) needs max_depth only: metric and threshold then label the outputs, and budget is 0 where
    /// absent (the planner's own count is filled in later).
    /// </summary>
    private static RefineSpec ParseRefine(YamlNode node, KindInfo info, JsonObject parameters, PlannerEntry planner)
    {
        if (node is not YamlMappingNode rm)
            throw new SpecException("key 'refine' must be { metric, threshold, max_depth, budget }");
        foreach (var rk in rm.Children.Keys.Select(Str))
            if (rk is not ("metric" or "threshold" or "max_depth" or "budget"))
                throw new SpecException(
                    $"unknown key 'refine.{rk}' (known: metric, threshold, max_depth, budget)");
        string? metric = planner.Refines || Child(rm, "metric") is not null
            ? RequiredScalar(rm, "metric", "refine.metric") : null;
        var range = (Min: double.NegativeInfinity, Max: double.PositiveInfinity);
        if (metric is not null)
        {
            var kindMetrics = info.MetricsOf(parameters);
            if (!kindMetrics.TryGetValue(metric, out range))
                throw new SpecException(info.Open
                    ? $"key 'refine.metric': '{metric}' is not among the metrics params.metrics declares "
                        + $"({string.Join(", ", kindMetrics.Keys)})"
                    : $"key 'refine.metric': '{metric}' is not a metric of kind '{info.Name}' "
                        + $"(metrics: {string.Join(", ", info.Metrics.Keys.Order())})");
        }
        double threshold = double.NaN;
        if (planner.Refines || Child(rm, "threshold") is not null)
        {
            if (metric is null)
                throw new SpecException(
                    "key 'refine.threshold' needs 'refine.metric' (the metric it is a level of)");
            threshold = RequiredNumber(rm, "threshold", "refine.threshold");
            if (!(threshold > range.Min && threshold < range.Max))
                throw new SpecException($"key 'refine.threshold': {threshold} is outside the range of '{metric}' "
                    + $"({range.Min}, {range.Max})");
        }
        int maxDepth = (int)RequiredInteger(rm, "max_depth", "refine.max_depth", 0, 12);
        int budget = planner.Refines || Child(rm, "budget") is not null
            ? (int)RequiredInteger(rm, "budget", "refine.budget", 1, 10_000_000) : 0;
        if (budget > MaxPoints)
            throw new SpecException($"key 'refine.budget': {budget} grid points is more than a sweep may have "
                + $"({MaxPoints})");
        return new RefineSpec(metric, threshold, maxDepth, budget);
    }

    /// <summary>
    /// `seeds: [100, 101]` (every point gets every seed) or `seeds: { min: 2, max: 16 }` / `{ first: S, min, max }`
    /// (adaptive: seeds first .. first + max − 1, at least min per point). Seeds lists every seed a run may get.
    /// </summary>
    private static (List<long> Seeds, AdaptiveSeeds? Range) ParseSeeds(YamlNode? node)
    {
        if (node is null) return ([0], null);
        if (node is YamlMappingNode m)
        {
            foreach (var k in m.Children.Keys.Select(Str))
                if (k is not ("first" or "min" or "max"))
                    throw new SpecException($"unknown key 'seeds.{k}' (known: first, min, max)");
            long first = Child(m, "first") is null
                ? 0
                : RequiredInteger(m, "first", "seeds.first", 0, long.MaxValue / 2);
            int max = (int)RequiredInteger(m, "max", "seeds.max", 1, 1024);
            int min = (int)RequiredInteger(m, "min", "seeds.min", 1, 1024);
            if (min > max) throw new SpecException($"key 'seeds.min' ({min}) must not exceed 'seeds.max' ({max})");
            var range = new AdaptiveSeeds(first, min, max);
            return (Enumerable.Range(0, max).Select(i => first + i).ToList(), range);
        }
        if (node is not YamlSequenceNode seq || seq.Children.Count == 0)
            throw new SpecException("key 'seeds' must be a non-empty list of integers or { min, max } (adaptive)");
        var seeds = new List<long>();
        foreach (var (n, i) in seq.Children.Select((n, i) => (n, i)))
        {
            if (!long.TryParse(Str(n), NumberStyles.Integer, CultureInfo.InvariantCulture, out long seed) || seed < 0)
                throw new SpecException($"key 'seeds'[{i}] must be an integer >= 0, got '{Str(n)}'");
            if (seeds.Contains(seed)) throw new SpecException($"key 'seeds'[{i}]: seed {seed} appears twice");
            seeds.Add(seed);
        }
        return (seeds, null);
    }

    /// <summary>
    /// An integer axis refines only to distinct integers: two lattice points with the same value would run the same
    /// runs twice. Refused with the deepest max_depth that keeps its values distinct.
    /// </summary>
    private static void CheckIntegerAxes(IReadOnlyList<Axis> axes, IReadOnlyList<int> initial, int maxDepth)
    {
        for (int a = 0; a < axes.Count; a++)
        {
            if (!axes[a].Integer) continue;
            int depth = maxDepth;
            while (depth >= 0 && !Distinct(AxisValues.Finest(axes[a], (initial[a] - 1) << depth))) depth--;
            if (depth == maxDepth) continue;
            string what = $"key 'axes.{axes[a].Name}': an integer axis from {axes[a].From} to {axes[a].To} has too "
                + $"few integers for {initial[a]} initial nodes";
            throw new SpecException(depth < 0
                ? $"{what}; give fewer nodes in grid.initial"
                : $"{what} refined to max_depth {maxDepth} (two lattice points would share a value); at most "
                    + $"max_depth {depth}");
        }

        static bool Distinct(double[] values) => values.Zip(values.Skip(1)).All(p => p.Second > p.First);
    }
}
