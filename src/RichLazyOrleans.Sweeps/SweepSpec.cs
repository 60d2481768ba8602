using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RichLazyOrleans.Sweeps;

/// <summary>
/// One sweep axis: a run parameter varied over [From, To], linearly or logarithmically; <paramref name="Integer"/>
/// axes take integer values only (widths, sizes).
/// </summary>
public sealed record Axis(string Name, double From, double To, bool Log, bool Integer = false)
{
    /// <summary>
    /// The parameter value at fraction u ∈ [0, 1] of the axis. The ends are the values as written; a value in
    /// between is a short decimal when the computed one lies within 16 ulp of it (<see cref="AxisValues.Snap"/>:
    /// 10 where exp/log arithmetic gives 10.000000000000011, 0.55 for 0.5499999999999999, so `df[df.lr == 10]`
    /// finds the rows), else the computed value (a few ulp from the exact one). Integer axes round to integers.
    /// </summary>
    public double ValueAt(double u)
    {
        double v = u <= 0 ? From : u >= 1 ? To : AxisValues.Snap(Log
            ? Math.Exp(Math.Log(From) + u * (Math.Log(To) - Math.Log(From)))
            : From + u * (To - From));
        return Integer ? Math.Round(v, MidpointRounding.AwayFromZero) : v;
    }

    /// <summary>The fraction u ∈ [0, 1] of a parameter value (inverse of <see cref="ValueAt"/>, before rounding).
    /// </summary>
    public double FractionOf(double value) => Log
        ? (Math.Log(value) - Math.Log(From)) / (Math.Log(To) - Math.Log(From))
        : (value - From) / (To - From);
}

/// <summary>Adaptive seeds: seed values First .. First + Max − 1; every point gets Min, uncertain points near the
/// boundary more.</summary>
public sealed record AdaptiveSeeds(long First, int Min, int Max);

/// <summary>What refinement looks at and how far it may go.</summary>
/// <param name="Metric">The metric refined on; null for a planner that does not refine and was given none.</param>
/// <param name="Threshold">The level whose boundary is sought; NaN for a planner that does not refine and was given
/// none (see <see cref="SweepSpec.Threshold"/>).</param>
/// <param name="MaxDepth">The finest lattice: spacing initial/2^MaxDepth.</param>
/// <param name="Budget">Most grid points; for a planner that does not refine and was given none, the points it will
/// run.</param>
public sealed record RefineSpec(string? Metric, double Threshold, int MaxDepth, int Budget);

/// <summary>What a run kind reports that a sweep can refine on, and the range of each metric.</summary>
/// <param name="Open">An open kind (`command`): any parameter may be an axis, and its metrics are the names listed in
/// its params' `metrics`.</param>
/// <param name="IntegerAxes">Axis parameters that take integers (widths, sizes): their axes are integer axes.
/// </param>
public sealed record KindInfo(string Name, IReadOnlyDictionary<string, (double Min, double Max)> Metrics,
    IReadOnlySet<string> AxisParameters, bool Open = false, IReadOnlySet<string>? IntegerAxes = null)
{
    /// <summary>The metrics a sweep of this kind with these params may refine on, with their ranges.</summary>
    public IReadOnlyDictionary<string, (double Min, double Max)> MetricsOf(JsonObject parameters) =>
        !Open ? Metrics
        : parameters["metrics"] is JsonArray a
            ? a.Select(n => n is JsonValue v && v.TryGetValue(out string? s) ? s : null).OfType<string>().Distinct()
                .ToDictionary(n => n, _ => (double.NegativeInfinity, double.PositiveInfinity))
            : new Dictionary<string, (double, double)>();
}

/// <summary>
/// A sweep (ENGINEERING.md contract): a run kind, fixed params, one or two axes, seeds, the initial
/// lattice, optional refinement and the planner that picks the points. Parsed from YAML with every error naming its
/// key.
/// </summary>
/// <param name="Planner">A name in <see cref="PlannerRegistry"/> (the spec's `planner:`).</param>
public sealed record SweepSpec(string Name, string Kind, JsonObject Params, IReadOnlyList<Axis> Axes,
    IReadOnlyList<long> Seeds, IReadOnlyList<int> Initial, RefineSpec? Refine, AdaptiveSeeds? SeedRange = null,
    string Planner = PlannerRegistry.Default, int MaxFailures = SweepSpec.DefaultMaxFailures)
{
    /// <summary>Grid points of the initial lattice.</summary>
    public int InitialPoints => Initial.Aggregate(1, (a, b) => a * b);

    /// <summary>The refine threshold, where there is one (a grid or random sweep may have none).</summary>
    public double? Threshold => Refine is { } r && double.IsFinite(r.Threshold) ? r.Threshold : null;

    /// <summary>
    /// Longest sweep name: result files are named NAME-TIMESTAMP-xxxxxxxx.parquet and written as
    /// .NAME.GUID.tmp first (name + 38 characters), which must stay under the 255 bytes file systems allow.
    /// </summary>
    public const int MaxNameLength = 100;

    /// <summary>
    /// When this many runs have failed, every one so far with the same reason and none succeeded, the sweep stops
    /// with that reason (`max_failures:`; 0 never stops): a misspelt path or a missing module fails every run alike,
    /// and running the other hundreds only repeats it.
    /// </summary>
    public const int DefaultMaxFailures = 3;

    /// <summary>
    /// Most grid points a sweep may have (initial lattice or budget), and most runs (points × seeds). A coordinator
    /// keeps every point and run in memory and in its saved state: 6 million points once took 3.4 GB and starved
    /// every other sweep on the silo.
    /// </summary>
    public const int MaxPoints = 100_000, MaxRuns = 1_000_000;

    /// <summary>Most YAML nodes the run params may expand to (aliases included): a "billion laughs" document
    /// expands exponentially and once ran a silo out of memory.</summary>
    public const int MaxParamNodes = 100_000;

    public static SweepSpec Load(string path, IReadOnlyDictionary<string, KindInfo> kinds)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException
            or NotSupportedException)
        {
            throw new SpecException($"cannot read sweep spec '{path}': {e.Message}");
        }
        return Parse(text, kinds, $"sweep spec '{path}'");
    }

    public static SweepSpec Parse(string yaml, IReadOnlyDictionary<string, KindInfo> kinds, string what = "sweep spec")
    {
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode m)
                throw new SpecException($"{what} must be a YAML mapping (name:, kind:, axes:, ...)");
            root = m;
        }
        catch (YamlException e)
        {
            throw new SpecException(
                $"{what} is not valid YAML: {e.Message.Split('\n')[0]} (line {e.Start.Line})");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's parser throws this (no position) on some unclosed flow collections, e.g. "[0.1, 2" then a
            // key.
            throw new SpecException($"{what} is not valid YAML: an unclosed '[' or '{{' (a flow list or mapping)");
        }
        catch (ArgumentException e)
        {
            // ... and this on some stray tags and events (found by the fuzz test).
            throw new SpecException($"{what} is not valid YAML: {e.Message.Split('\n')[0]}");
        }

        var known = new[] { "name", "kind", "params", "axes", "seeds", "grid", "refine", "planner", "max_failures" };
        foreach (var key in root.Children.Keys.Select(Str))
            if (!known.Contains(key))
                throw new SpecException($"unknown key '{key}' (known: {string.Join(", ", known)})");

        string name = RequiredScalar(root, "name");
        if (name.Length == 0 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            throw new SpecException($"key 'name' must be letters, digits, '-', '_' or '.', got '{name}'");
        if (name.StartsWith('.'))
            throw new SpecException(
                $"key 'name' must not start with '.' (it names files and folders), got '{name}'");
        if (name.Length > MaxNameLength)
            throw new SpecException($"key 'name' is {name.Length} characters long; at most {MaxNameLength} "
                + $"(it names result files)");
        string kind = RequiredScalar(root, "kind");
        if (!kinds.TryGetValue(kind, out var info))
            throw new SpecException(
                $"key 'kind': unknown run kind '{kind}' (known: {string.Join(", ", kinds.Keys.Order())})");

        var parameters = new JsonObject();
        if (Child(root, "params") is { } p)
        {
            if (p is not YamlMappingNode pm) throw new SpecException("key 'params' must be a mapping");
            int nodes = 0;
            foreach (var (k, v) in pm.Children) parameters[Str(k)] = ToJson(v, $"params.{Str(k)}", ref nodes);
        }

        if (Child(root, "axes") is not YamlMappingNode axesNode || axesNode.Children.Count is < 1 or > 2)
            throw new SpecException("key 'axes' must map one or two parameter names to { from, to, scale }");
        var axes = new List<Axis>();
        foreach (var (k, v) in axesNode.Children)
        {
            string axis = Str(k);
            if (info.Open ? axis == "seed" : !info.AxisParameters.Contains(axis))
                throw new SpecException($"key 'axes.{axis}': '{axis}' is not a numeric parameter of kind "
                    + $"'{kind}' (axes: {string.Join(", ", info.AxisParameters.Order())})");
            if (parameters.ContainsKey(axis))
                throw new SpecException($"key 'axes.{axis}': also fixed in 'params'");
            if (v is not YamlMappingNode am)
                throw new SpecException($"key 'axes.{axis}' must be {{ from: .., to: .., scale: linear|log }}");
            foreach (var ak in am.Children.Keys.Select(Str))
                if (ak is not ("from" or "to" or "scale" or "integer"))
                    throw new SpecException($"unknown key 'axes.{axis}.{ak}' (known: from, to, scale, integer)");
            double from = RequiredNumber(am, "from", $"axes.{axis}.from");
            double to = RequiredNumber(am, "to", $"axes.{axis}.to");
            string scale = Child(am, "scale") is { } s ? Str(s) : "linear";
            if (scale is not ("linear" or "log"))
                throw new SpecException($"key 'axes.{axis}.scale' must be 'linear' or 'log', got '{scale}'");
            if (!(to > from))
                throw new SpecException($"key 'axes.{axis}': 'to' ({to}) must be above 'from' ({from})");
            if (scale == "log" && !(from > 0))
                throw new SpecException($"key 'axes.{axis}.from' must be > 0 on a log axis");
            bool integer = Child(am, "integer") is { } iv && Flag(iv, $"axes.{axis}.integer");
            if (integer && (from != Math.Round(from) || to != Math.Round(to)))
                throw new SpecException($"key 'axes.{axis}': an integer axis runs from an integer to an integer, "
                    + $"got {from} to {to}");
            integer |= info.IntegerAxes?.Contains(axis) == true;   // the kind's widths and sizes
            axes.Add(new Axis(axis, from, to, scale == "log", integer));
        }

        var (seeds, seedRange) = ParseSeeds(Child(root, "seeds"));
        var initial = Enumerable.Repeat(5, axes.Count).ToList();
        if (Child(root, "grid") is { } gridNode)
        {
            if (gridNode is not YamlMappingNode gm)
                throw new SpecException("key 'grid' must be { initial: [n1, n2] }");
            foreach (var gk in gm.Children.Keys.Select(Str))
                if (gk != "initial") throw new SpecException($"unknown key 'grid.{gk}' (known: initial)");
            if (Child(gm, "initial") is not YamlSequenceNode init || init.Children.Count != axes.Count)
                throw new SpecException($"key 'grid.initial' must list {axes.Count} node count(s), one per axis");
            initial = init.Children.Select((n, i) =>
                int.TryParse(Str(n), NumberStyles.Integer, CultureInfo.InvariantCulture, out int c)
                    && c >= 2 && c <= 10_000
                ? c
                : throw new SpecException($"key 'grid.initial'[{i}] must be an integer >= 2, got '{Str(n)}'"))
                .ToList();
        }

        var planner = ParsePlanner(Child(root, "planner"));
        RefineSpec? refine = null;
        if (Child(root, "refine") is { } refineNode)
            refine = ParseRefine(refineNode, info, parameters, planner);
        if (refine is null && initial.Aggregate(1L, (a, b) => a * b) is var initialPoints && initialPoints > MaxPoints)
            throw new SpecException($"key 'grid.initial': {string.Join(" x ", initial)} = {initialPoints} grid "
                + $"points is more than a sweep may have ({MaxPoints})");
        CheckIntegerAxes(axes, initial, refine?.MaxDepth ?? 0);
        int maxFailures = Child(root, "max_failures") is null ? DefaultMaxFailures
            : (int)RequiredInteger(root, "max_failures", "max_failures", 0, MaxRuns);
        var spec = new SweepSpec(name, kind, parameters, axes, seeds, initial, refine, seedRange, planner.Name,
            maxFailures);
        long points = planner.GridPoints(spec);
        if (points > MaxPoints)
            throw new SpecException($"key 'planner': {planner.Name} would run {points} grid points, more than a "
                + $"sweep may have ({MaxPoints})");
        // A planner that refines may add seeds up to max where the side is unsure; a fixed design gives min.
        int seedsPerPoint = planner.Refines ? seedRange?.Max ?? seeds.Count : seedRange?.Min ?? seeds.Count;
        if (points * seedsPerPoint > MaxRuns)
            throw new SpecException($"key 'seeds': {points} grid points x {seedsPerPoint} seeds "
                + $"is more than {MaxRuns} runs");
        if (seedRange is not null && refine is null && planner.Refines)
            throw new SpecException("key 'seeds': { min, max } (adaptive seeds) needs 'refine' "
                + "(a metric and threshold to be sure about)");
        return refine is { Budget: 0 } ? spec with { Refine = refine with { Budget = (int)points } } : spec;
    }

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

    private static bool Flag(YamlNode node, string path) => Str(node) switch
    {
        "true" => true,
        "false" => false,
        var v => throw new SpecException($"key '{path}' must be true or false, got '{v}'"),
    };

    private static string Str(YamlNode n) => n is YamlScalarNode s
        ? s.Value ?? ""
        : throw new SpecException($"expected a value, got a {n.NodeType} at line {n.Start.Line}");

    private static YamlNode? Child(YamlMappingNode m, string key) =>
        m.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    private static string RequiredScalar(YamlMappingNode m, string key, string? path = null) =>
        Child(m, key) is YamlScalarNode s && !string.IsNullOrEmpty(s.Value)
            ? s.Value!
            : throw new SpecException($"missing key '{path ?? key}'");

    private static double RequiredNumber(YamlMappingNode m, string key, string path)
    {
        string s = RequiredScalar(m, key, path);
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new SpecException($"key '{path}' must be a finite number, got '{s}'");
        return v;
    }

    private static long RequiredInteger(YamlMappingNode m, string key, string path, long min, long max)
    {
        string s = RequiredScalar(m, key, path);
        if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) || v < min || v > max)
            throw new SpecException($"key '{path}' must be an integer in [{min}, {max}], got '{s}'");
        return v;
    }

    /// <summary>YAML → JSON for run params: numbers stay numbers, lists and maps recurse; at most
    /// <see cref="MaxParamNodes"/> nodes, counted as aliases expand.</summary>
    private static JsonNode? ToJson(YamlNode node, string path, ref int nodes)
    {
        if (++nodes > MaxParamNodes)
            throw new SpecException($"key '{path}': the params expand to more than {MaxParamNodes} YAML nodes "
                + $"(aliases included)");
        switch (node)
        {
            case YamlSequenceNode q:
            {
                var array = new JsonArray();
                for (int i = 0; i < q.Children.Count; i++) array.Add(ToJson(q.Children[i], $"{path}[{i}]", ref nodes));
                return array;
            }
            case YamlMappingNode m:
            {
                var o = new JsonObject();
                foreach (var (k, v) in m.Children) o[Str(k)] = ToJson(v, $"{path}.{Str(k)}", ref nodes);
                return o;
            }
            default: return Scalar(node, path);
        }
    }

    private static JsonNode? Scalar(YamlNode node, string path) => node switch
    {
        YamlScalarNode s when s.Style is YamlDotNet.Core.ScalarStyle.SingleQuoted
            or YamlDotNet.Core.ScalarStyle.DoubleQuoted => JsonValue.Create(s.Value),
        YamlScalarNode s when s.Value is null or "" or "null" or "~" => null,
        YamlScalarNode s when s.Value is "true" or "false" => JsonValue.Create(s.Value == "true"),
        YamlScalarNode s when double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture,
            out double d) =>
            long.TryParse(s.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l)
                ? JsonValue.Create(l) : JsonValue.Create(d),
        YamlScalarNode s => JsonValue.Create(s.Value),
        _ => throw new SpecException($"key '{path}': unsupported YAML node"),
    };
}
