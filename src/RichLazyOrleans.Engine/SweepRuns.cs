using System.Text.Json.Nodes;
using RichLazyOrleans.Engine;
using RichLazyOrleans.Results;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Engine;

/// <summary>Turns a sweep's (point, seed) into the run a run grain executes: its id and full spec.</summary>
public sealed class SweepRuns(SweepSpec spec, string resultsDir, string? traceParent = null)
{
    private readonly IRunKind _kind = RunKindRegistry.Get(spec.Kind);
    private readonly Lattice _lattice = Lattice.For(spec);

    public SweepSpec Spec => spec;
    public Lattice Lattice => _lattice;

    /// <summary>`pI_J-sSEED` (two axes) or `pI-sSEED` (one axis).</summary>
    public string RunId(LatticePoint p, long seed) =>
        spec.Axes.Count == 2 ? $"p{p.I}_{p.J}-s{seed}" : $"p{p.I}-s{seed}";

    public RunRequest Request(LatticePoint p, long seed, int depth) => Make(p, seed, depth).Request;

    /// <summary>The run to send and the columns every row of it shares (<see cref="RunColumns"/>), from one
    /// build of its spec.</summary>
    public (RunRequest Request, RunColumns Columns) Make(LatticePoint p, long seed, int depth)
    {
        var runSpec = RunSpec(p, seed);
        var run = new RunRequest(spec.Name, RunId(p, seed), spec.Kind, runSpec.ToJsonString(), p.I, p.J, depth, seed,
            resultsDir, spec.Refine?.Metric, traceParent, [.. spec.Axes.Select(a => a.Name)]);
        return (run, new RunColumns(spec.Name, run.RunId, spec.Kind, runSpec, run.Axes ?? [], seed, depth, p.I, p.J,
            Schema.Metrics, run.SpecJson));
    }

    /// <summary>A run's full spec: the sweep's params, its axis values and seed, and where it saves states.</summary>
    private JsonObject RunSpec(LatticePoint p, long seed)
    {
        var (u, v) = _lattice.Fractions(p);
        var runSpec = (JsonObject)spec.Params.DeepClone();
        runSpec[spec.Axes[0].Name] = AxisValue(_kind, spec.Axes[0], u);
        if (spec.Axes.Count == 2) runSpec[spec.Axes[1].Name] = AxisValue(_kind, spec.Axes[1], v);
        if (_kind.HasSeed) runSpec["seed"] = seed;
        string runId = RunId(p, seed);
        // Resumable kinds save their states under DIR/checkpoints/RUN_ID, or RUN_ID under the params' checkpoint_dir:
        // one directory shared by every run made runs overwrite each other's states.
        if (_kind.Resumable)
            runSpec["checkpoint_dir"] = runSpec["checkpoint_dir"] is JsonValue given
                && given.TryGetValue(out string? root)
                ? Path.Combine(root, runId) : Path.Combine(resultsDir, "checkpoints", runId);
        return runSpec;
    }

    /// <summary>The sweep's columns (<see cref="SweepSchema"/>): every file of this sweep has exactly these.</summary>
    public SweepSchema Schema { get; } = SweepSchema.For(spec);

    /// <summary>An axis's value at fraction u of its range; integer parameters (widths, sizes) rounded.</summary>
    public static JsonNode AxisValue(IRunKind kind, Axis axis, double u)
    {
        double v = axis.ValueAt(u);
        return axis.Integer || kind.IntegerAxes.Contains(axis.Name)
            ? JsonValue.Create((long)Math.Round(v)) : JsonValue.Create(v);
    }

    /// <summary>
    /// Parses and checks a sweep to start; throws <see cref="SpecException"/> with one line naming the key. One
    /// run's full spec (params + axis values + seed) is checked at both ends of every axis before anything
    /// starts, so a missing or bad run key fails the whole sweep at once instead of failing every run.
    /// </summary>
    public static SweepSpec Validate(string yaml, IReadOnlyDictionary<string, KindInfo> kinds, string sweepId,
        string resultsDir, PathRoots? roots = null, long? memory = null, CommandPolicy? commands = null)
    {
        roots ??= PathRoots.Unconfined;
        roots.Check("--out", resultsDir, PathUse.Write);
        if (roots.Results is { } root && PathRoots.RealPath(resultsDir) == root)
            throw new SpecException($"--out: {resultsDir} is the results root itself; give a folder inside it (e.g. "
                + $"{Path.Combine(root, "NAME")}): the root holds every sweep's results");
        var spec = SweepSpec.Parse(yaml, kinds);
        if (spec.Name != sweepId)
            throw new SpecException($"sweep id '{sweepId}' does not match the spec's name '{spec.Name}'");
        var kind = RunKindRegistry.Get(spec.Kind);
        (commands ?? CommandPolicy.Allow).Check(spec.Kind);
        if (!kind.HasSeed && spec.Seeds.Count > 1)
            throw new SpecException($"key 'seeds': kind '{spec.Kind}' is deterministic and takes no seed; "
                + "give one seed or none");
        foreach (double end in new[] { 0.0, 1.0 })
        {
            var probe = (JsonObject)spec.Params.DeepClone();
            foreach (var axis in spec.Axes) probe[axis.Name] = AxisValue(kind, axis, end);
            if (kind.HasSeed) probe["seed"] = spec.Seeds[0];
            if (kind.Resumable && !probe.ContainsKey("checkpoint_dir"))
                probe["checkpoint_dir"] = Path.Combine(resultsDir, "checkpoints", "probe");
            try
            {
                roots.Check(kind, probe);   // before the kind reads any file (a probe of /etc/shadow says nothing)
                kind.Validate(new Spec(probe));
                // Sizes grow toward one end of an axis, so the two ends bound every run's memory.
                RunMemory.Check(kind, new Spec(probe), memory ?? RunMemory.Available, "a silo");
            }
            // The kind names its own key; within a sweep spec that key sits under params.
            catch (SpecException e) { throw new SpecException($"params: {e.Message}"); }
        }
        if (spec.Params["checkpoint_dir"] is JsonValue v && v.TryGetValue(out string? dir))
            ProbeWritable(dir, "params.checkpoint_dir");
        return spec;
    }

    /// <summary>A directory the sweep will write: a file written and removed there (the directory too, if the probe
    /// made it: a refused sweep leaves nothing behind), or one line why not.</summary>
    private static void ProbeWritable(string dir, string key)
    {
        try
        {
            bool existed = Directory.Exists(dir);
            Directory.CreateDirectory(dir);
            string probe = Path.Combine(dir, $".richlazy-probe-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            if (!existed) Directory.Delete(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException
            or NotSupportedException)
        {
            throw new SpecException($"key '{key}': {dir} is not a writable directory ({e.Message.Split('\n')[0]})");
        }
    }
}
