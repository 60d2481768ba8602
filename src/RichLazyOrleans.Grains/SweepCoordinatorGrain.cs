using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Grains;

/// <summary>
/// One sweep: lays the initial lattice, dispatches runs with back-pressure (never more in flight
/// than the cluster's slots), aggregates seed means, asks <see cref="Refinement"/> for the next
/// round, honours budget and max depth, and knows what is queued, running, done and failed.
/// </summary>
[Reentrant]
public sealed class SweepCoordinatorGrain(ILogger<SweepCoordinatorGrain> logger) : Grain, ISweepCoordinatorGrain
{
    private SweepSpec? _spec;
    private string _specYaml = "";
    private string _resultsDir = "";
    private Lattice? _lattice;
    private Refinement? _refinement;
    private readonly Queue<RunRequest> _queue = new();
    private readonly Dictionary<string, RunRequest> _running = new();
    private readonly HashSet<string> _finished = new();
    private readonly Dictionary<LatticePoint, List<double>> _seedMetrics = new();
    private readonly HashSet<LatticePoint> _points = new();
    private int _done, _failed, _rows, _depth;
    private string _state = "new";
    private string? _message;
    private readonly Stopwatch _clock = new();
    private Activity? _activity;
    private bool _pumping;
    private int _slots;
    private Stopwatch? _slotsCheckedAt;
    private List<Results.ResultRow> _pending = new();   // accepted rows not yet in a Parquet file
    private readonly Dictionary<string, HashSet<long>> _acceptedSteps = new();   // (run_id, step) written once
    private int _part;
    private IGrainTimer? _flushTimer;

    public static IReadOnlyDictionary<string, KindInfo> Kinds { get; } =
        RunKindRegistry.All.ToDictionary(k => k.Name, k => new KindInfo(k.Name, k.Metrics, k.AxisParameters));

    public async Task<SweepStatus> Start(SweepRequest request)
    {
        if (_spec is not null)
        {
            if (request.SpecYaml != _specYaml || request.ResultsDir != _resultsDir)
                throw new ArgumentException($"sweep '{this.GetPrimaryKeyString()}' is already running with a different spec or results directory");
            return Status();
        }
        SweepSpec spec;
        try { spec = SweepSpec.Parse(request.SpecYaml, Kinds); }
        catch (SweepSpecException e) { throw new ArgumentException(e.Message); }
        if (spec.Name != this.GetPrimaryKeyString()) throw new ArgumentException($"sweep id '{this.GetPrimaryKeyString()}' does not match the spec's name '{spec.Name}'");
        var kind = RunKindRegistry.Get(spec.Kind);
        if (!kind.HasSeed && spec.Seeds.Count > 1) throw new ArgumentException($"key 'seeds': kind '{spec.Kind}' is deterministic and takes no seed; give one seed or none");

        // Check one run's full spec (params + axis values + seed) before anything starts, so a
        // missing or bad run key fails the whole sweep at once instead of failing every run.
        var probe = (JsonObject)spec.Params.DeepClone();
        foreach (var axis in spec.Axes) probe[axis.Name] = axis.ValueAt(0);
        if (kind.HasSeed) probe["seed"] = spec.Seeds[0];
        if (kind.Resumable && !probe.ContainsKey("checkpoint_dir")) probe["checkpoint_dir"] = Path.Combine(request.ResultsDir, "checkpoints", "probe");
        try { kind.Validate(new Spec(probe)); }
        catch (SpecException e) { throw new ArgumentException($"params: {e.Message}"); }

        _spec = spec;
        _specYaml = request.SpecYaml;
        _resultsDir = request.ResultsDir;
        _lattice = Lattice.For(spec);
        _refinement = spec.Refine is { } r ? new Refinement(_lattice, r.Threshold, r.Budget) : null;
        _state = "running";
        _clock.Start();
        _activity = Telemetry.Source.StartActivity("sweep", ActivityKind.Internal);
        _activity?.SetTag("sweep.id", spec.Name);
        DelayDeactivation(TimeSpan.FromDays(30));
        // Rows stream to disk in batches: at most a second behind, one file per batch instead of one
        // per run (a file per run cost more CPU than a 10 ms run on a 2-core machine).
        _flushTimer = this.RegisterGrainTimer(_ => FlushAsync(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        Enqueue(_lattice.InitialPoints(), depth: 0);
        await Pump();
        return Status();
    }

    private void Enqueue(IEnumerable<LatticePoint> points, int depth)
    {
        var spec = _spec!;
        var kind = RunKindRegistry.Get(spec.Kind);
        foreach (var p in points)
        {
            if (!_points.Add(p)) continue;
            var (u, v) = _lattice!.Fractions(p);
            foreach (long seed in spec.Seeds)
            {
                var runSpec = (JsonObject)spec.Params.DeepClone();
                runSpec[spec.Axes[0].Name] = spec.Axes[0].ValueAt(u);
                if (spec.Axes.Count == 2) runSpec[spec.Axes[1].Name] = spec.Axes[1].ValueAt(v);
                if (kind.HasSeed) runSpec["seed"] = seed;
                string runId = spec.Axes.Count == 2 ? $"p{p.I}_{p.J}-s{seed}" : $"p{p.I}-s{seed}";
                // Resumable kinds save their states under DIR/checkpoints/RUN_ID unless the spec says otherwise.
                if (kind.Resumable && !runSpec.ContainsKey("checkpoint_dir"))
                    runSpec["checkpoint_dir"] = Path.Combine(_resultsDir, "checkpoints", runId);
                _queue.Enqueue(new RunRequest(spec.Name, runId, spec.Kind, runSpec.ToJsonString(), p.I, p.J, depth, seed, _resultsDir, spec.Refine?.Metric, _activity?.Id));
                Telemetry.RunsQueued.Add(1);
            }
        }
    }

    /// <summary>Starts queued runs while the cluster has free slots.</summary>
    private async Task Pump()
    {
        if (_pumping) return;   // reentrant grain: one pump at a time
        _pumping = true;
        try
        {
            // Twice the cluster's slots in flight: the extra runs wait on their silo's slot, so a slot
            // that frees up starts the next run at once instead of after a round trip through here.
            // The registry is asked at most once a second, not on every finished run.
            if (_slotsCheckedAt is null || _slotsCheckedAt.Elapsed.TotalSeconds > 1)
            {
                _slots = await GrainFactory.GetGrain<ISlotRegistryGrain>(0).TotalSlots();
                _slotsCheckedAt = Stopwatch.StartNew();
            }
            int capacity = 2 * Math.Max(1, _slots);   // no silo registered yet: still make progress
            while (_state == "running" && _queue.Count > 0 && _running.Count < capacity)
            {
                var run = _queue.Dequeue();
                _running[run.RunId] = run;
                Telemetry.RunsQueued.Add(-1);
                Telemetry.RunsInFlight.Add(1);
                await GrainFactory.GetGrain<IRunGrain>($"{run.SweepId}/{run.RunId}").Start(run);
            }
        }
        finally { _pumping = false; }
    }

    public async Task RunFinished(RunResult result)
    {
        if (!_running.Remove(result.RunId, out var run) || !_finished.Add(result.RunId)) return;   // duplicate report
        Telemetry.RunsInFlight.Add(-1);
        if (result.Succeeded)
        {
            _done++;
            Accept(result.RunId, result.RowsJson);
            _acceptedSteps.Remove(result.RunId);   // finished: no more rows can come
            if (result.MetricValue is { } m && double.IsFinite(m))
            {
                var p = new LatticePoint(run.LatticeI, run.LatticeJ);
                if (!_seedMetrics.TryGetValue(p, out var list)) _seedMetrics[p] = list = [];
                list.Add(m);
            }
        }
        else
        {
            _failed++;
            _message = $"run {result.RunId} failed: {result.Error}";
            logger.LogWarning("sweep {Sweep}: {Message}", _spec?.Name, _message);
        }

        if (_pending.Count >= 5000) await FlushAsync();
        if (_state == "cancelling" && _running.Count == 0) { await FinishAsync("cancelled"); return; }
        if (_queue.Count == 0 && _running.Count == 0 && _state == "running") await NextRoundOrFinishAsync();
        await Pump();
    }

    public Task RunProgress(string runId, string rowsJson)
    {
        if (_running.ContainsKey(runId)) Accept(runId, rowsJson);
        return Task.CompletedTask;
    }

    /// <summary>Takes a run's rows, each (run_id, step) once, whether it arrives as progress or at the end.</summary>
    private void Accept(string runId, string rowsJson)
    {
        if (!_acceptedSteps.TryGetValue(runId, out var steps)) _acceptedSteps[runId] = steps = [];
        foreach (var row in System.Text.Json.JsonSerializer.Deserialize<List<Results.ResultRow>>(rowsJson) ?? [])
            if (steps.Add(row.Step)) { _pending.Add(row); _rows++; }
    }

    /// <summary>Writes the accepted rows not yet on disk as one Parquet file (atomically).</summary>
    private async Task FlushAsync()
    {
        if (_pending.Count == 0) return;
        var batch = _pending;
        _pending = new();
        string name = $"{this.GetPrimaryKeyString()}-{++_part:D6}-{Guid.NewGuid().ToString("N")[..8]}";
        try { await Results.ResultFiles.WriteBatchAsync(_resultsDir, name, batch); }
        catch (Exception e)
        {
            _pending.InsertRange(0, batch);   // keep them for the next attempt
            _message = $"could not write results: {e.Message}";
            logger.LogError(e, "sweep {Sweep}: writing results failed", _spec?.Name);
        }
    }

    private async Task NextRoundOrFinishAsync()
    {
        var spec = _spec!;
        while (_refinement is not null && _depth < spec.Refine!.MaxDepth)
        {
            var means = _seedMetrics.ToDictionary(kv => kv.Key, kv => kv.Value.Average());
            var next = _refinement.NextRound(means, _depth);
            _depth++;
            if (next.Count > 0) { Enqueue(next, _depth); return; }
        }
        await FinishAsync("complete");
    }

    /// <summary>A sweep is reported finished only once all its rows are on disk.</summary>
    private async Task FinishAsync(string state)
    {
        _state = "finishing";
        await FlushAsync();
        _flushTimer?.Dispose();
        _state = state;
        _clock.Stop();
        _activity?.SetTag("sweep.state", state);
        _activity?.Stop();
    }

    public Task<SweepStatus> GetStatus() => Task.FromResult(Status());

    public async Task<SweepStatus> Cancel()
    {
        if (_state == "running")
        {
            Telemetry.RunsQueued.Add(-_queue.Count);
            _queue.Clear();
            _state = "cancelling";   // runs in flight finish and are recorded
            if (_running.Count == 0) await FinishAsync("cancelled");
        }
        return Status();
    }

    private SweepStatus Status() => new(
        this.GetPrimaryKeyString(), _state, _queue.Count, _running.Count, _done, _failed, _depth, _spec?.Refine?.MaxDepth ?? 0,
        _points.Count, _rows, _clock.Elapsed.TotalSeconds, _message);
}
