using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RichLazyOrleans.Sweeps;

/// <summary>
/// A sweep (ENGINEERING.md contract): a run kind, fixed params, one or two axes, seeds, the initial
/// lattice, optional refinement and the planner that picks the points. Parsed from YAML with every error naming its
/// key.
/// </summary>
/// <param name="Planner">A name in <see cref="PlannerRegistry"/> (the spec's `planner:`).</param>
public sealed partial record SweepSpec(string Name, string Kind, JsonObject Params, IReadOnlyList<Axis> Axes,
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
}
