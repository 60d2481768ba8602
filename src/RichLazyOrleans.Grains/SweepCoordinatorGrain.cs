using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Results;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Grains;

/// <summary>
/// What a sweep keeps in grain storage. Together with the Parquet files (the ledger of which
/// (run_id, step) rows exist) it is enough to restore the sweep on any silo: the spec, every grid
/// point dispatched so far with its round, and the runs whose rows are all on disk.
/// </summary>
[GenerateSerializer]
public sealed class SweepGrainState
{
    [Id(0)] public string SpecYaml { get; set; } = "";
    [Id(1)] public string ResultsDir { get; set; } = "";
    /// <summary>new, running, cancelling, complete, cancelled, failed.</summary>
    [Id(2)] public string State { get; set; } = "new";
    [Id(3)] public int Depth { get; set; }
    [Id(4)] public List<SweepPoint> Points { get; set; } = [];
    /// <summary>Runs whose rows were all written before this was saved (written first, recorded second).</summary>
    [Id(5)] public Dictionary<string, FinishedRun> Finished { get; set; } = [];
    [Id(6)] public string? Message { get; set; }
    [Id(7)] public double ElapsedSeconds { get; set; }
    [Id(8)] public int Recoveries { get; set; }
    [Id(9)] public int Redispatched { get; set; }
    [Id(10)] public int RowsWritten { get; set; }
}

[GenerateSerializer, Immutable]
public sealed record SweepPoint([property: Id(0)] int I, [property: Id(1)] int J, [property: Id(2)] int Depth);

[GenerateSerializer, Immutable]
public sealed record FinishedRun([property: Id(0)] int I, [property: Id(1)] int J, [property: Id(2)] bool Succeeded, [property: Id(3)] double? Metric, [property: Id(4)] string? Error);

/// <summary>
/// One sweep: lays the initial lattice, dispatches runs with back-pressure (never more in flight
/// than the cluster's slots allow), aggregates seed means, asks <see cref="Refinement"/> for the next
/// round, honours budget and max depth, and knows what is queued, running, done and failed.
///
/// Durable: its state (<see cref="SweepGrainState"/>) is saved in grain storage (Redis in a
/// cluster) and a reminder brings it back after its silo dies; on activation it restores itself
/// from that state and the Parquet files already written, and dispatches every unfinished run
/// again. Run grains treat a repeated Start as a no-op, and a fresh activation of a run whose silo
/// died resumes from its last checkpoint. Rows are accepted once per (run_id, step), also across
/// restores (the written files are read back), so nothing finished is lost or written twice.
/// </summary>
[Reentrant]
public sealed class SweepCoordinatorGrain(
    [PersistentState("sweep", StorageNames.Default)] IPersistentState<SweepGrainState> state,
    ILogger<SweepCoordinatorGrain> logger) : Grain, ISweepCoordinatorGrain, IRemindable
{
    /// <summary>The reminder that revives a sweep whose silo died (Orleans' minimum period is set to 5 s by our silos).</summary>
    public static readonly TimeSpan ReminderPeriod = TimeSpan.FromSeconds(30);
    /// <summary>A run in flight is asked to make sure it runs this often (a no-op while it does; a restart elsewhere when its silo died).</summary>
    public static readonly TimeSpan RedispatchAfter = TimeSpan.FromSeconds(10);
    private const string ReminderName = "sweep-alive";

    private SweepSpec? _spec;
    private Lattice? _lattice;
    private Refinement? _refinement;
    private readonly Dictionary<string, RunRequest> _runs = new();             // every run of every known point
    private readonly Queue<string> _queue = new();                              // run ids waiting to be dispatched
    private readonly Dictionary<string, DateTime> _running = new();            // run id -> last time it was asked to run
    private Dictionary<string, FinishedRun> _finishedNow = new();               // finished, rows not yet on disk
    private Dictionary<string, FinishedRun> _flushing = new();                  // finished, rows being written right now
    private readonly Dictionary<LatticePoint, List<double>> _seedMetrics = new();
    private readonly HashSet<LatticePoint> _points = new();
    private int _rows;
    private string _state = "new";
    private readonly Stopwatch _clock = new();
    private Activity? _activity;
    private bool _pumping, _dirty, _reminderSet;
    private int _slots;
    private Stopwatch? _slotsCheckedAt;
    private List<ResultRow> _pending = new();                                   // accepted rows not yet in a Parquet file
    private readonly Dictionary<string, HashSet<long>> _acceptedSteps = new();  // (run_id, step) written once
    private readonly SemaphoreSlim _io = new(1, 1);                             // one flush/save at a time (reentrant grain)
    private IGrainTimer? _flushTimer, _watchdogTimer;
    private double _elapsedBase;                                                 // seconds spent by earlier activations
    private Stopwatch? _lastSave;
    /// <summary>How often the growing state is written while rows stream (a full write of thousands of runs costs milliseconds).</summary>
    public static readonly TimeSpan SaveInterval = TimeSpan.FromSeconds(5);

    public static IReadOnlyDictionary<string, KindInfo> Kinds { get; } =
        RunKindRegistry.All.ToDictionary(k => k.Name, k => new KindInfo(k.Name, k.Metrics, k.AxisParameters));

    private string SweepId => this.GetPrimaryKeyString();
    private IEnumerable<FinishedRun> AllFinished => state.State.Finished.Values.Concat(_flushing.Values).Concat(_finishedNow.Values);
    private int Done => AllFinished.Count(f => f.Succeeded);
    private int Failed => AllFinished.Count(f => !f.Succeeded);
    private bool IsFinished(string runId) => state.State.Finished.ContainsKey(runId) || _flushing.ContainsKey(runId) || _finishedNow.ContainsKey(runId);
    /// <summary>Nothing queued that still has to run, and nothing in flight: the round is over.</summary>
    private bool RoundOver => _running.Count == 0 && _queue.All(IsFinished);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A sweep that was going on when its previous activation died (or its silos stopped) comes back by itself.
        if (state.State.State is "running" or "cancelling" or "finishing")
        {
            try { await RestoreAsync(); }
            catch (Exception e)
            {
                // Answer status with the reason rather than failing every call (and every reminder tick).
                _state = "failed";
                state.State.Message = $"could not restore the sweep: {e.GetType().Name}: {e.Message.Split('\n')[0]}";
                logger.LogError(e, "sweep {Sweep}: {Message}", SweepId, state.State.Message);
            }
        }
        else if (state.State.State is not "new") { _state = state.State.State; _rows = state.State.RowsWritten; _elapsedBase = state.State.ElapsedSeconds; }   // finished: answer status only
    }

    /// <summary>Leaving gracefully (its silo is shutting down): rows and state on disk first, so the next activation loses nothing.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_state is "running" or "cancelling" or "finishing") { await FlushAsync(); await SaveAsync(); }
    }

    public async Task<SweepStatus> Start(SweepRequest request)
    {
        if (state.State.State != "new")
        {
            if (request.SpecYaml != state.State.SpecYaml || request.ResultsDir != state.State.ResultsDir)
                throw new ArgumentException($"sweep '{SweepId}' already exists with a different spec or results directory");
            return Status();   // the same sweep again (a client re-attaching after a restart)
        }
        SweepSpec spec;
        try { spec = SweepSpec.Parse(request.SpecYaml, Kinds); }
        catch (SweepSpecException e) { throw new ArgumentException(e.Message); }
        if (spec.Name != SweepId) throw new ArgumentException($"sweep id '{SweepId}' does not match the spec's name '{spec.Name}'");
        var kind = RunKindRegistry.Get(spec.Kind);
        if (!kind.HasSeed && spec.Seeds.Count > 1) throw new ArgumentException($"key 'seeds': kind '{spec.Kind}' is deterministic and takes no seed; give one seed or none");

        // Check one run's full spec (params + axis values + seed) before anything starts, so a
        // missing or bad run key fails the whole sweep at once instead of failing every run.
        // Both ends of every axis are checked (a value out of range at the far end fails here too).
        foreach (double end in new[] { 0.0, 1.0 })
        {
            var probe = (JsonObject)spec.Params.DeepClone();
            foreach (var axis in spec.Axes) probe[axis.Name] = AxisValue(kind, axis, end);
            if (kind.HasSeed) probe["seed"] = spec.Seeds[0];
            if (kind.Resumable && !probe.ContainsKey("checkpoint_dir")) probe["checkpoint_dir"] = Path.Combine(request.ResultsDir, "checkpoints", "probe");
            try { kind.Validate(new Spec(probe)); }
            catch (SpecException e) { throw new ArgumentException($"params: {e.Message}"); }
        }

        // Rows of an earlier attempt of this sweep (its silo was embedded and is gone) count as written.
        state.State.ResultsDir = request.ResultsDir;
        if (await ReadLedgerAsync() is > 0 and var found)
        {
            // Only rows of the same spec may be kept: otherwise old and new results would mix silently.
            string previous = Path.Combine(request.ResultsDir, "sweep.yaml");
            if (File.Exists(previous) && File.ReadAllText(previous) != request.SpecYaml)
            {
                _acceptedSteps.Clear();
                _rows = 0;
                state.State.ResultsDir = "";
                throw new ArgumentException($"{request.ResultsDir} already holds {found} rows of sweep '{SweepId}' run with a different spec (its sweep.yaml differs): use another --out, or the same spec to complete it");
            }
            logger.LogWarning("sweep {Sweep}: {Rows} rows of an earlier attempt are already in {Dir}; they are kept and not written again", SweepId, found, request.ResultsDir);
        }
        state.State.SpecYaml = request.SpecYaml;
        state.State.State = "running";
        Begin(spec);
        Enqueue(_lattice!.InitialPoints(), depth: 0);
        await SaveAsync();   // durable before the first run starts
        await EnsureReminderAsync();
        await Pump();
        return Status();
    }

    /// <summary>Sets up the in-memory side of a running sweep (fresh or restored).</summary>
    private void Begin(SweepSpec spec)
    {
        _spec = spec;
        _lattice = Lattice.For(spec);
        _refinement = spec.Refine is { } r ? new Refinement(_lattice, r.Threshold, r.Budget) : null;
        _state = "running";
        _elapsedBase = state.State.ElapsedSeconds;
        _clock.Start();
        _activity = Telemetry.Source.StartActivity("sweep", ActivityKind.Internal);
        _activity?.SetTag("sweep.id", spec.Name);
        DelayDeactivation(TimeSpan.FromDays(30));
        // Rows stream to disk in batches: at most a second behind, one file per batch instead of one
        // per run (a file per run cost more CPU than a 10 ms run on a 2-core machine).
        _flushTimer = this.RegisterGrainTimer(_ => FlushAsync(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        _watchdogTimer = this.RegisterGrainTimer(_ => WatchdogAsync(), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2));
        logger.LogInformation("sweep {Sweep} coordinated on {Silo}", SweepId, RuntimeIdentity);
    }

    /// <summary>Rebuilds a sweep from its saved state and the rows already on disk, and dispatches every unfinished run.</summary>
    private async Task RestoreAsync()
    {
        var s = state.State;
        var spec = SweepSpec.Parse(s.SpecYaml, Kinds);
        int rowsOnDisk = await ReadLedgerAsync();
        foreach (var f in s.Finished.Values)
            if (f.Succeeded && f.Metric is { } m && double.IsFinite(m)) AddMetric(new LatticePoint(f.I, f.J), m);
        Begin(spec);
        foreach (var group in s.Points.GroupBy(p => p.Depth).OrderBy(g => g.Key))
            Enqueue(group.Select(p => new LatticePoint(p.I, p.J)), group.Key, record: false);
        s.Recoveries++;
        logger.LogWarning("sweep {Sweep} restored: {Points} points, {Finished} runs finished, {Queued} to run, {Rows} rows on disk (recovery {N})",
            SweepId, _points.Count, s.Finished.Count, _queue.Count, rowsOnDisk, s.Recoveries);
        if (s.State == "cancelling") { await FinishAsync("cancelled"); return; }
        s.State = "running";
        await SaveAsync();
        await EnsureReminderAsync();
        await AdvanceAsync();
    }

    /// <summary>
    /// The ledger: every row of this sweep already in DIR/runs, so a rerun's rows are accepted only
    /// where missing (after a restore, and when a sweep that died with an embedded silo is run again
    /// into the same directory). Returns the number of rows found.
    /// </summary>
    private async Task<int> ReadLedgerAsync()
    {
        int rowsOnDisk = 0;
        var rows = new List<ResultRow>();
        string runsDir = ResultFiles.RunsDirectory(state.State.ResultsDir);
        foreach (var file in Directory.Exists(runsDir) ? Directory.EnumerateFiles(runsDir, "*.parquet").Order() : Enumerable.Empty<string>())
        {
            try { rows.AddRange(await ResultFiles.ReadRunAsync(file)); }
            catch (FileNotFoundException) { }
            catch (Exception e) { logger.LogError("sweep {Sweep}: results file {File} is unreadable ({Error}); its rows may be written again", SweepId, file, e.Message.Split('\n')[0]); }
        }
        foreach (var row in rows)
        {
            if (row.SweepId != SweepId) continue;
            rowsOnDisk++;
            if (state.State.Finished.ContainsKey(row.RunId)) continue;
            if (!_acceptedSteps.TryGetValue(row.RunId, out var steps)) _acceptedSteps[row.RunId] = steps = [];
            steps.Add(row.Step);
        }
        _rows = rowsOnDisk;
        return rowsOnDisk;
    }

    /// <summary>An axis's value at fraction u of its range; integer parameters (widths, sizes) rounded to the nearest integer.</summary>
    public static JsonNode AxisValue(IRunKind kind, Axis axis, double u)
    {
        double v = axis.ValueAt(u);
        return kind.IntegerAxes.Contains(axis.Name) ? JsonValue.Create((long)Math.Round(v)) : JsonValue.Create(v);
    }

    private void Enqueue(IEnumerable<LatticePoint> points, int depth, bool record = true)
    {
        var spec = _spec!;
        var kind = RunKindRegistry.Get(spec.Kind);
        foreach (var p in points)
        {
            if (!_points.Add(p)) continue;
            if (record) { state.State.Points.Add(new SweepPoint(p.I, p.J, depth)); _dirty = true; }
            var (u, v) = _lattice!.Fractions(p);
            foreach (long seed in spec.Seeds)
            {
                var runSpec = (JsonObject)spec.Params.DeepClone();
                runSpec[spec.Axes[0].Name] = AxisValue(kind, spec.Axes[0], u);
                if (spec.Axes.Count == 2) runSpec[spec.Axes[1].Name] = AxisValue(kind, spec.Axes[1], v);
                if (kind.HasSeed) runSpec["seed"] = seed;
                string runId = spec.Axes.Count == 2 ? $"p{p.I}_{p.J}-s{seed}" : $"p{p.I}-s{seed}";
                // Resumable kinds save their states under DIR/checkpoints/RUN_ID unless the spec says otherwise.
                if (kind.Resumable && !runSpec.ContainsKey("checkpoint_dir"))
                    runSpec["checkpoint_dir"] = Path.Combine(state.State.ResultsDir, "checkpoints", runId);
                _runs[runId] = new RunRequest(spec.Name, runId, spec.Kind, runSpec.ToJsonString(), p.I, p.J, depth, seed, state.State.ResultsDir, spec.Refine?.Metric, _activity?.Id);
                if (IsFinished(runId)) continue;
                _queue.Enqueue(runId);
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
                try { _slots = await GrainFactory.GetGrain<ISlotRegistryGrain>(0).TotalSlots(); }
                catch (Exception e) { logger.LogWarning("sweep {Sweep}: slot registry unreachable ({Error})", SweepId, e.Message.Split('\n')[0]); }
                _slotsCheckedAt = Stopwatch.StartNew();
            }
            int capacity = 2 * Math.Max(1, _slots);   // no silo registered yet: still make progress
            while (_state == "running" && _queue.Count > 0 && _running.Count < capacity)
            {
                string runId = _queue.Dequeue();
                Telemetry.RunsQueued.Add(-1);
                if (IsFinished(runId) || _running.ContainsKey(runId)) continue;
                _running[runId] = DateTime.UtcNow;
                Telemetry.RunsInFlight.Add(1);
                await Dispatch(runId);
            }
        }
        finally { _pumping = false; }
    }

    /// <summary>Asks a run to make sure it runs; a failure is left to the watchdog to retry.</summary>
    private async Task Dispatch(string runId)
    {
        var run = _runs[runId];
        try
        {
            int attempt = await GrainFactory.GetGrain<IRunGrain>($"{run.SweepId}/{run.RunId}").Start(run);
            if (attempt < 0 && _running.ContainsKey(runId)) _running[runId] = DateTime.MinValue;   // refused (its silo is stopping): ask again at the next tick
            if (attempt > 1)
            {
                state.State.Redispatched++;
                _dirty = true;
                logger.LogWarning("sweep {Sweep}: run {RunId} started again (attempt {Attempt}): its silo died or stopped", SweepId, runId, attempt);
            }
        }
        catch (Exception e)
        {
            logger.LogWarning("sweep {Sweep}: could not start run {RunId} ({Error}); will retry", SweepId, runId, e.Message.Split('\n')[0]);
        }
    }

    /// <summary>
    /// Runs in flight are asked again every <see cref="RedispatchAfter"/>: a no-op while their
    /// activation lives, a fresh activation on a surviving silo (resuming from its checkpoint)
    /// once their silo has been declared dead or has stopped.
    /// </summary>
    private async Task WatchdogAsync()
    {
        if (_state != "running" && _state != "cancelling") return;
        var now = DateTime.UtcNow;
        var due = _running.Where(kv => now - kv.Value >= RedispatchAfter).Select(kv => kv.Key).ToList();
        foreach (var id in due) _running[id] = now;
        await Task.WhenAll(due.Select(Dispatch));
        if (!_reminderSet) await EnsureReminderAsync();
        await AdvanceAsync();   // also ends a round whose last runs finished while a pump was under way
    }

    private async Task EnsureReminderAsync()
    {
        try
        {
            await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
            _reminderSet = true;
        }
        catch (Exception e) { logger.LogWarning("sweep {Sweep}: could not register its reminder ({Error}); will retry", SweepId, e.Message.Split('\n')[0]); }
    }

    /// <summary>The reminder's only job is to activate the grain (OnActivateAsync restores it); a finished sweep drops it.</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName) return;
        if (state.State.State is "complete" or "cancelled" or "failed")
        {
            try { if (await this.GetReminder(ReminderName) is { } r) await this.UnregisterReminder(r); }
            catch (Exception e) { logger.LogWarning("sweep {Sweep}: could not drop its reminder ({Error})", SweepId, e.Message.Split('\n')[0]); }
        }
    }

    public async Task RunFinished(RunResult result)
    {
        // A duplicate report (a retry, or a rerun of a run already finished) still frees its place in flight.
        if (_running.Remove(result.RunId)) Telemetry.RunsInFlight.Add(-1);
        if (!_runs.TryGetValue(result.RunId, out var run) || IsFinished(result.RunId)) { await AdvanceAsync(); return; }
        if (result.Succeeded)
        {
            Accept(result.RunId, result.RowsJson);
            _acceptedSteps.Remove(result.RunId);   // finished: no more rows can come
            if (result.MetricValue is { } m && double.IsFinite(m)) AddMetric(new LatticePoint(run.LatticeI, run.LatticeJ), m);
        }
        else
        {
            state.State.Message = $"run {result.RunId} failed: {result.Error}";
            logger.LogWarning("sweep {Sweep}: {Message}", SweepId, state.State.Message);
        }
        // Recorded as finished in durable state only after its rows are on disk (FlushAsync).
        _finishedNow[result.RunId] = new FinishedRun(run.LatticeI, run.LatticeJ, result.Succeeded, result.MetricValue, result.Error);

        if (_pending.Count >= 5000) await FlushAsync();
        await AdvanceAsync();
    }

    /// <summary>Dispatches what may run, and ends the round (or the sweep) when nothing is left.</summary>
    private async Task AdvanceAsync()
    {
        if (_state == "cancelling" && _running.Count == 0) { await FinishAsync("cancelled"); return; }
        if (_state == "running" && RoundOver) await NextRoundOrFinishAsync();
        await Pump();
    }

    public Task RunProgress(string runId, string rowsJson)
    {
        if (_runs.ContainsKey(runId) && !IsFinished(runId)) Accept(runId, rowsJson);
        return Task.CompletedTask;
    }

    public Task RunInterrupted(string runId, string silo)
    {
        // Its silo is stopping; the run saved a checkpoint and deactivated. Ask for it again at the
        // watchdog's next tick, which creates the activation on another silo.
        if (_running.ContainsKey(runId))
        {
            _running[runId] = DateTime.MinValue;
            logger.LogInformation("sweep {Sweep}: run {RunId} was stopped by its silo {Silo}; it will continue elsewhere", SweepId, runId, silo);
        }
        return Task.CompletedTask;
    }

    public async Task<SweepStatus> Resume()
    {
        if (_state is "running" or "cancelling")
        {
            foreach (var id in _running.Keys.ToList()) _running[id] = DateTime.MinValue;
            await WatchdogAsync();
        }
        return Status();
    }

    private void AddMetric(LatticePoint p, double m)
    {
        if (!_seedMetrics.TryGetValue(p, out var list)) _seedMetrics[p] = list = [];
        list.Add(m);
    }

    /// <summary>Takes a run's rows, each (run_id, step) once, whether it arrives as progress or at the end.</summary>
    private void Accept(string runId, string rowsJson)
    {
        if (!_acceptedSteps.TryGetValue(runId, out var steps)) _acceptedSteps[runId] = steps = [];
        foreach (var row in System.Text.Json.JsonSerializer.Deserialize<List<ResultRow>>(rowsJson) ?? [])
            if (steps.Add(row.Step)) { _pending.Add(row); _rows++; }
    }

    /// <summary>
    /// Writes the accepted rows not yet on disk as one Parquet file (atomically), then records the
    /// runs they finished in durable state. In that order: a crash in between leaves rows on disk
    /// for a run not recorded as finished, which reruns (from its checkpoint) and adds nothing twice.
    /// </summary>
    private async Task FlushAsync()
    {
        if (_pending.Count == 0 && _finishedNow.Count == 0 && !_dirty) return;
        await _io.WaitAsync();
        try
        {
            // Taken together, with no await between, so a run finishing meanwhile waits for the next flush.
            if (_state == "superseded") return;   // another activation owns the sweep and its files
            var batch = _pending;
            var finishing = _finishedNow;
            _pending = new();
            _finishedNow = new();
            _flushing = finishing;   // still counted as finished while the write is under way
            if (batch.Count > 0)
            {
                string name = $"{SweepId}-{DateTime.UtcNow:yyyyMMddHHmmssfff}-{Guid.NewGuid().ToString("N")[..8]}";
                try { await ResultFiles.WriteBatchAsync(state.State.ResultsDir, name, batch); }
                catch (Exception e)
                {
                    batch.AddRange(_pending);   // keep them, in order, for the next attempt
                    _pending = batch;
                    foreach (var kv in _finishedNow) finishing[kv.Key] = kv.Value;
                    _finishedNow = finishing;
                    _flushing = new();
                    state.State.Message = $"could not write results: {e.Message}";
                    logger.LogError(e, "sweep {Sweep}: writing results failed", SweepId);
                    return;
                }
            }
            foreach (var kv in finishing) state.State.Finished[kv.Key] = kv.Value;
            _flushing = new();
            if (finishing.Count > 0) _dirty = true;
            // The state grows with the sweep and is written whole, so it is written at most every
            // SaveInterval here (forced on start, cancel and finish). A run finished in between is
            // simply rerun after a crash (from its final checkpoint) and adds no row twice.
            if (_lastSave is null || _lastSave.Elapsed >= SaveInterval) await SaveCoreAsync();
        }
        finally { _io.Release(); }
    }

    private async Task SaveAsync()
    {
        await _io.WaitAsync();
        try { _dirty = true; await SaveCoreAsync(); }
        finally { _io.Release(); }
    }

    private async Task SaveCoreAsync()
    {
        if (!_dirty) return;
        state.State.ElapsedSeconds = ElapsedSeconds;
        state.State.RowsWritten = _rows - _pending.Count;
        _dirty = false;   // cleared before the write: a change made while it is under way marks it dirty again
        try
        {
            await state.WriteStateAsync();
            _lastSave = Stopwatch.StartNew();
        }
        catch (Orleans.Storage.InconsistentStateException e)
        {
            // Another activation of this sweep saved after us: it owns the sweep now.
            logger.LogError("sweep {Sweep}: its state was changed by another activation ({Error}); deactivating", SweepId, e.Message.Split('\n')[0]);
            _state = "superseded";
            DeactivateOnIdle();
        }
        catch (Exception e)
        {
            // Storage unreachable (Redis restarting): the state stays dirty and the next flush tries again.
            _dirty = true;
            logger.LogWarning("sweep {Sweep}: could not save its state ({Error}); will retry", SweepId, e.Message.Split('\n')[0]);
        }
    }

    private double ElapsedSeconds => _elapsedBase + _clock.Elapsed.TotalSeconds;

    private async Task NextRoundOrFinishAsync()
    {
        var spec = _spec!;
        while (_refinement is not null && state.State.Depth < spec.Refine!.MaxDepth)
        {
            var means = _seedMetrics.ToDictionary(kv => kv.Key, kv => kv.Value.Average());
            var next = _refinement.NextRound(means, state.State.Depth);
            state.State.Depth++;
            _dirty = true;
            if (next.Count > 0) { Enqueue(next, state.State.Depth); return; }
        }
        await FinishAsync("complete");
    }

    /// <summary>A sweep is reported finished only once all its rows are on disk and its state says so.</summary>
    private async Task FinishAsync(string final)
    {
        if (_state is "finishing" or "complete" or "cancelled" or "failed") return;   // already on its way
        _state = "finishing";
        await FlushAsync();
        while (_pending.Count > 0 || _finishedNow.Count > 0)
        {
            // Results could not be written (disk full, path gone): keep trying; status shows the message.
            await Task.Delay(TimeSpan.FromSeconds(1));
            await FlushAsync();
        }
        state.State.State = final;
        await SaveAsync();
        while (_dirty)
        {
            // A finished sweep must say so durably, or a later activation would restore and rerun it.
            await Task.Delay(TimeSpan.FromSeconds(1));
            await SaveAsync();
        }
        _flushTimer?.Dispose();
        _watchdogTimer?.Dispose();
        _state = final;
        _clock.Stop();
        _activity?.SetTag("sweep.state", final);
        _activity?.Stop();
        try { if (await this.GetReminder(ReminderName) is { } r) await this.UnregisterReminder(r); }
        catch (Exception e) { logger.LogWarning("sweep {Sweep}: could not drop its reminder ({Error}); it will be dropped when it fires", SweepId, e.Message.Split('\n')[0]); }
        DelayDeactivation(TimeSpan.Zero);   // nothing runs any more: the activation may go when idle (its state answers status later)
    }

    public Task<SweepStatus> GetStatus() => Task.FromResult(Status());

    public async Task<SweepStatus> Cancel()
    {
        if (_state == "running")
        {
            Telemetry.RunsQueued.Add(-_queue.Count);
            _queue.Clear();
            _state = "cancelling";   // runs in flight finish and are recorded
            state.State.State = "cancelling";
            await SaveAsync();
            if (_running.Count == 0) await FinishAsync("cancelled");
        }
        return Status();
    }

    private SweepStatus Status()
    {
        var s = state.State;
        int queued = _queue.Count(id => !IsFinished(id) && !_running.ContainsKey(id));
        return new SweepStatus(SweepId, _state, queued, _running.Count, Done, Failed, s.Depth, _spec?.Refine?.MaxDepth ?? 0,
            _points.Count > 0 ? _points.Count : s.Points.Count, _rows, ElapsedSeconds, s.Message, s.Redispatched, s.Recoveries);
    }
}
