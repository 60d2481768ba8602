using RichLazyOrleans.Engine;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Engine;

/// <summary>
/// The runs of one sweep around its <see cref="ISweepPlanner"/>: every run proposed so far (appended, in the
/// planner's order, to the grain state's list that <see cref="SweepPlanner.Restore"/> replays), the ones
/// waiting to be dispatched (after a restore), and the ones finished. Plain class: no Orleans, no I/O.
/// </summary>
public sealed class SweepPlan
{
    private readonly ISweepPlanner _planner;
    private readonly SweepRuns _runs;
    private readonly List<ProposedRun> _proposed;
    private readonly Dictionary<string, RunRequest> _byId = [];
    private readonly Queue<RunRequest> _queue = new();
    private readonly Dictionary<string, bool> _told = [];   // run id -> succeeded
    private readonly HashSet<LatticePoint> _points = [];
    private readonly Dictionary<string, RunColumns> _columns = [];   // of runs whose rows may still come

    private SweepPlan(SweepRuns runs, List<ProposedRun> proposed, ISweepPlanner planner)
    {
        _runs = runs;
        _proposed = proposed;
        _planner = planner;
    }

    public SweepSpec Spec => _runs.Spec;
    public int MaxDepth => _runs.Lattice.MaxDepth;
    public int Done { get; private set; }
    public int Failed { get; private set; }
    /// <summary>Runs proposed and not yet dispatched.</summary>
    public int Queued => _queue.Count;
    public int GridPoints => _points.Count;
    /// <summary>The deepest refinement level proposed so far (0: the initial lattice).</summary>
    public int Depth { get; private set; }
    /// <summary>Every run has been told and the planner wants nothing more.</summary>
    public bool IsComplete => _planner.IsComplete;

    /// <summary>Runs told so far (a change count for outputs derived from the results).</summary>
    public int Told => _told.Count;

    /// <summary>What is known of every grid point proposed so far (the planner's view).</summary>
    public IReadOnlyList<PointSummary> Points() => _planner.Points();

    public RunRequest? Get(string runId) => _byId.GetValueOrDefault(runId);

    /// <summary>The columns an unfinished run's rows share (made with its request, dropped when it is told); null
    /// for a run that is unknown or finished, whose rows are not wanted.</summary>
    public RunColumns? Columns(string runId) => IsFinished(runId) ? null : _columns.GetValueOrDefault(runId);
    public bool IsFinished(string runId) => _told.ContainsKey(runId);

    /// <summary>
    /// The plan of a sweep that has proposed <paramref name="proposed"/> (the grain state's list, extended in
    /// place) and whose runs <paramref name="finished"/> have all their rows on disk; <paramref name="onDisk"/>
    /// are runs with rows in the results directory. Finished or on-disk runs missing from the list (proposed
    /// after the last save, or by an earlier attempt into the same directory) are appended, so the planner is
    /// never told of a run it did not propose and no row on disk is left without its run, unless the planner could
    /// not have proposed it (a grid or random design's outside point: warned and left out). A fresh sweep passes
    /// empty collections.
    /// </summary>
    public static SweepPlan Restore(SweepRuns runs, List<ProposedRun> proposed,
        IReadOnlyDictionary<string, FinishedRun> finished, IEnumerable<ProposedRun> onDisk, Action<string>? warn = null)
    {
        var spec = runs.Spec;
        var known = proposed.ToHashSet();
        var extra = new HashSet<ProposedRun>();
        foreach (var r in finished.Values.Select(f => new ProposedRun(f.I, f.J, f.Seed)).Concat(onDisk))
        {
            if (known.Contains(r)) continue;
            int k = IndexOf(spec.Seeds, r.Seed);
            if (k < 0 || !OnLattice(runs.Lattice, r))
            {
                warn?.Invoke($"run {runs.RunId(new(r.I, r.J), r.Seed)} is not on this sweep's lattice and seeds; "
                    + "ignored");
                continue;
            }
            // The planner hands a point's seeds out in the spec's order; keep each point's seeds a prefix of it.
            for (int i = 0; i <= k; i++)
                if (new ProposedRun(r.I, r.J, spec.Seeds[i]) is var s && !known.Contains(s)) extra.Add(s);
        }
        // The saved list is the planner's own history; replay it, then offer the extras one by one.
        var planner = SweepPlanner.Restore(spec, proposed.Select(r => (new LatticePoint(r.I, r.J), r.Seed)), []);
        // Deterministic: the order of the sweep's lattice (depth, point, seed), whatever order they were found in.
        foreach (var r in extra.OrderBy(r => runs.Lattice.DepthOf(new(r.I, r.J))).ThenBy(r => r.I).ThenBy(r => r.J)
            .ThenBy(r => IndexOf(spec.Seeds, r.Seed)))
        {
            // A planner with a fixed design (grid, random) refuses a run outside it, e.g. rows an earlier attempt
            // with another planner left in the directory: those rows stay on disk, the plan goes without them.
            try { planner.MarkProposed(new(r.I, r.J), r.Seed); }
            catch (ArgumentException)
            {
                warn?.Invoke($"run {runs.RunId(new(r.I, r.J), r.Seed)} is not one planner '{spec.Planner}' "
                    + "proposes; ignored");
                continue;
            }
            proposed.Add(r);
        }
        var accepted = proposed.ToHashSet();
        foreach (var f in finished.Values.Where(f => accepted.Contains(new ProposedRun(f.I, f.J, f.Seed))))
            planner.Tell(new LatticePoint(f.I, f.J), f.Seed, Metric(f.Succeeded, f.Metric));

        var plan = new SweepPlan(runs, proposed, planner);
        foreach (var p in planner.Proposed)
        {
            var request = plan.Add(p);
            if (finished.TryGetValue(request.RunId, out var f)) plan.Record(request.RunId, f.Succeeded);
            else plan.Enqueue(request);
        }
        return plan;
    }

    /// <summary>
    /// Grid points, deepest depth and max depth of saved proposals, for a finished sweep answering status
    /// without a plan (zeros for a sweep never started, or a spec that no longer parses).
    /// </summary>
    public static (int Points, int Depth, int MaxDepth) Summary(string specYaml,
        IReadOnlyDictionary<string, KindInfo> kinds, IReadOnlyList<ProposedRun> proposed)
    {
        if (specYaml.Length == 0) return default;
        try
        {
            var lattice = Lattice.For(SweepSpec.Parse(specYaml, kinds));
            var points = proposed.Select(r => new LatticePoint(r.I, r.J)).Distinct().ToList();
            return (points.Count, points.Select(lattice.DepthOf).DefaultIfEmpty(0).Max(), lattice.MaxDepth);
        }
        catch (SpecException) { return default; }
    }

    /// <summary>Up to <paramref name="room"/> runs to dispatch now: waiting ones first, then new ones.</summary>
    public IReadOnlyList<RunRequest> Take(int room)
    {
        var taken = new List<RunRequest>();
        while (taken.Count < room && _queue.TryDequeue(out var r))
        {
            Telemetry.RunsQueued.Add(-1);
            if (!IsFinished(r.RunId)) taken.Add(r);
        }
        if (taken.Count < room)
            foreach (var p in _planner.Ask(room - taken.Count))
            {
                _proposed.Add(new ProposedRun(p.Point.I, p.Point.J, p.Seed));
                taken.Add(Add(p));
            }
        return taken;
    }

    /// <summary>
    /// A run finished: tells the planner (a metric only for a success with a finite value) and returns what to
    /// record of it; null when the run is unknown or was told already (a repeated report).
    /// </summary>
    public FinishedRun? Tell(RunResult result)
    {
        if (!_byId.TryGetValue(result.RunId, out var r) || IsFinished(result.RunId)) return null;
        Record(result.RunId, result.Succeeded);
        _planner.Tell(new LatticePoint(r.LatticeI, r.LatticeJ), r.Seed, Metric(result.Succeeded, result.MetricValue));
        return new FinishedRun(r.LatticeI, r.LatticeJ, r.Seed, result.Succeeded, result.MetricValue, result.Error);
    }

    /// <summary>Cancelled: nothing waiting is dispatched any more.</summary>
    public void DropQueued()
    {
        Telemetry.RunsQueued.Add(-_queue.Count);
        _queue.Clear();
    }

    private RunRequest Add(PlannedRun p)
    {
        var (request, columns) = _runs.Make(p.Point, p.Seed, p.Depth);
        _byId[request.RunId] = request;
        _columns[request.RunId] = columns;
        _points.Add(p.Point);
        Depth = Math.Max(Depth, p.Depth);
        return request;
    }

    private void Enqueue(RunRequest r)
    {
        _queue.Enqueue(r);
        Telemetry.RunsQueued.Add(1);
    }

    private void Record(string runId, bool succeeded)
    {
        _told[runId] = succeeded;
        _columns.Remove(runId);
        if (succeeded) Done++; else Failed++;
    }

    private static double? Metric(bool succeeded, double? metric) =>
        succeeded && metric is { } m && double.IsFinite(m) ? m : null;

    private static int IndexOf(IReadOnlyList<long> seeds, long seed)
    {
        for (int i = 0; i < seeds.Count; i++) if (seeds[i] == seed) return i;
        return -1;
    }

    /// <summary>Inside the lattice (every integer point is one at the finest resolution).</summary>
    private static bool OnLattice(Lattice lattice, ProposedRun r) =>
        r.I >= 0 && r.I <= lattice.Extent[0] && r.J >= 0 && r.J <= (lattice.Dims == 2 ? lattice.Extent[1] : 0);
}
