using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Grains;

/// <summary>
/// One sweep: its phases and its conversations. The parts with one job each: <see cref="SweepPlan"/> (the
/// planner's proposals, what waits and what finished), <see cref="RunDispatcher"/> (the in-flight window and
/// the watchdog), <see cref="ResultSink"/> (each (run_id, step) once, batched atomic Parquet writes, the
/// ledger, compaction at the end). No rounds: whenever a run finishes or the watchdog ticks and the window
/// has room, the planner is asked for that many runs and they are dispatched at once; the sweep is complete
/// when the planner wants nothing more and nothing is in flight.
///
/// Durable: <see cref="SweepGrainState"/> is saved in grain storage (Redis in a cluster) and a reminder
/// brings the sweep back after its silo dies; on activation it restores itself from that state and the
/// Parquet files already written, and dispatches every unfinished run again. Run grains treat a repeated
/// Start as a no-op, and a fresh activation of a run whose silo died resumes from its last checkpoint.
/// </summary>
[Reentrant]
public sealed class SweepCoordinatorGrain(
    [PersistentState("sweep", StorageNames.Default)] IPersistentState<SweepGrainState> state,
    ILogger<SweepCoordinatorGrain> logger) : Grain, ISweepCoordinatorGrain, IRemindable
{
    /// <summary>The reminder that revives a sweep whose silo died (Orleans' minimum period is set to 5 s by our silos).</summary>
    public static readonly TimeSpan ReminderPeriod = TimeSpan.FromSeconds(30);
    /// <summary>A run in flight is asked to make sure it runs this often (a no-op while it does; a restart elsewhere when its silo died).</summary>
    public static readonly TimeSpan RedispatchAfter = RunDispatcher.RedispatchAfter;
    /// <summary>How often the growing state is written while rows stream (a full write of thousands of runs costs milliseconds).</summary>
    public static readonly TimeSpan SaveInterval = TimeSpan.FromSeconds(5);
    private const string ReminderName = "sweep-alive";

    public static IReadOnlyDictionary<string, KindInfo> Kinds { get; } =
        RunKindRegistry.All.ToDictionary(k => k.Name, k => new KindInfo(k.Name, k.Metrics, k.AxisParameters));

    /// <summary>An axis's value at fraction u of its range (see <see cref="SweepRuns.AxisValue"/>).</summary>
    public static System.Text.Json.Nodes.JsonNode AxisValue(IRunKind kind, Axis axis, double u) => SweepRuns.AxisValue(kind, axis, u);

    private SweepPlan? _plan;
    private RunDispatcher? _dispatcher;
    private ResultSink? _sink;
    private readonly SemaphoreSlim _io = new(1, 1);   // one flush/save at a time (reentrant grain)
    private readonly Stopwatch _clock = new();
    private Stopwatch? _lastSave;
    private Activity? _activity;
    private IGrainTimer? _flushTimer, _watchdogTimer;
    private bool _dirty, _reminderSet, _superseded;
    private double _elapsedBase;                    // seconds spent by earlier activations
    private (int Points, int Depth, int MaxDepth) _ended;   // a finished sweep's status, without a plan

    private SweepGrainState S => state.State;
    private string SweepId => this.GetPrimaryKeyString();
    private double ElapsedSeconds => _plan is null ? S.ElapsedSeconds : _elapsedBase + _clock.Elapsed.TotalSeconds;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A sweep that was going on when its previous activation died (or its silos stopped) comes back by itself.
        if (!S.Phase.IsActive())
        {
            // New, or finished: answers status from its state (a spec that no longer parses only loses the depth).
            if (S.Phase == SweepPhase.New) return;
            try
            {
                var spec = SweepSpec.Parse(S.SpecYaml, Kinds);
                var (points, depth) = SweepPlan.Summary(spec, S.Proposed);
                _ended = (points, depth, Lattice.For(spec).MaxDepth);
            }
            catch (SweepSpecException) { }
            return;
        }
        try { await RestoreAsync(); }
        catch (Exception e)
        {
            // Answer status with the reason rather than failing every call. Not saved (SaveCoreAsync), and the
            // activation may be collected when idle: the reminder's next tick tries again.
            _flushTimer?.Dispose();
            _watchdogTimer?.Dispose();
            DelayDeactivation(TimeSpan.Zero);
            S.Phase = SweepPhase.Failed;
            S.Message = $"could not restore the sweep: {e.GetType().Name}: {RunDispatcher.FirstLine(e)}";
            logger.LogError(e, "sweep {Sweep}: {Message}", SweepId, S.Message);
        }
    }

    /// <summary>Leaving gracefully (its silo is shutting down): rows and state on disk first, so the next activation loses nothing.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (S.Phase.IsActive() && _sink is not null) { await FlushAsync(); await SaveAsync(); }
    }

    public async Task<SweepStatus> Start(SweepRequest request)
    {
        if (S.Phase != SweepPhase.New)
        {
            if (request.SpecYaml != S.SpecYaml || request.ResultsDir != S.ResultsDir)
                throw new ArgumentException($"sweep '{SweepId}' already exists with a different spec or results directory");
            return Status();   // the same sweep again (a client re-attaching after a restart)
        }
        SweepSpec spec;
        try { spec = SweepSpec.Parse(request.SpecYaml, Kinds); }
        catch (SweepSpecException e) { throw new ArgumentException(e.Message); }
        if (spec.Name != SweepId) throw new ArgumentException($"sweep id '{SweepId}' does not match the spec's name '{spec.Name}'");
        SweepRuns.Validate(spec, request.ResultsDir);

        // Rows of an earlier attempt of this sweep (its silo was embedded and is gone) count as written.
        var sink = new ResultSink(SweepId, request.ResultsDir, logger);
        var ledger = await sink.ReadLedgerAsync(S.Finished);
        if (ledger.Rows > 0)
        {
            // Only rows of the same spec may be kept: otherwise old and new results would mix silently.
            string previous = Path.Combine(request.ResultsDir, "sweep.yaml");
            if (File.Exists(previous) && File.ReadAllText(previous) != request.SpecYaml)
                throw new ArgumentException($"{request.ResultsDir} already holds {ledger.Rows} rows of sweep '{SweepId}' run with a different spec (its sweep.yaml differs): use another --out, or the same spec to complete it");
            logger.LogWarning("sweep {Sweep}: {Rows} rows of an earlier attempt are already in {Dir}; they are kept and not written again", SweepId, ledger.Rows, request.ResultsDir);
        }
        S.SpecYaml = request.SpecYaml;
        S.ResultsDir = request.ResultsDir;
        S.Phase = SweepPhase.Running;
        Begin(spec, sink, ledger);
        await SaveAsync();   // durable before the first run starts
        await EnsureReminderAsync();
        await AdvanceAsync();
        return Status();
    }

    /// <summary>Rebuilds a sweep from its saved state and the rows already on disk, and dispatches every unfinished run.</summary>
    private async Task RestoreAsync()
    {
        var spec = SweepSpec.Parse(S.SpecYaml, Kinds);
        var sink = new ResultSink(SweepId, S.ResultsDir, logger);
        var ledger = await sink.ReadLedgerAsync(S.Finished);
        Begin(spec, sink, ledger);
        S.Recoveries++;
        logger.LogWarning("sweep {Sweep} restored: {Points} points, {Finished} runs finished, {Queued} to run, {Rows} rows on disk (recovery {N})",
            SweepId, _plan!.GridPoints, S.Finished.Count, _plan.Queued, ledger.Rows, S.Recoveries);
        if (S.Phase is SweepPhase.Cancelling || S.Phase is SweepPhase.Finishing && S.FinishingAs is SweepPhase.Cancelled)
        {
            S.Phase = SweepPhase.Cancelling;
            await FinishAsync(SweepPhase.Cancelled);
            return;
        }
        S.Phase = SweepPhase.Running;   // a sweep that was finishing as complete re-checks that it is
        await SaveAsync();
        await EnsureReminderAsync();
        await AdvanceAsync();
    }

    /// <summary>Sets up the in-memory side of a running sweep (fresh or restored).</summary>
    private void Begin(SweepSpec spec, ResultSink sink, Ledger ledger)
    {
        _activity = Telemetry.Source.StartActivity("sweep", ActivityKind.Internal);
        _activity?.SetTag("sweep.id", spec.Name);
        _sink = sink;
        _plan = SweepPlan.Restore(new SweepRuns(spec, S.ResultsDir, _activity?.Id), S.Proposed, S.Finished, ledger.Runs,
            warning => logger.LogWarning("sweep {Sweep}: {Warning}", SweepId, warning));
        _dispatcher = new RunDispatcher(() => GrainFactory.GetGrain<ISlotRegistryGrain>(0).TotalSlots(),
            run => GrainFactory.GetGrain<IRunGrain>($"{run.SweepId}/{run.RunId}").Start(run),
            (_, _) => { S.Redispatched++; _dirty = true; }, logger, SweepId);
        _elapsedBase = S.ElapsedSeconds;
        _clock.Start();
        DelayDeactivation(TimeSpan.FromDays(30));
        _flushTimer = this.RegisterGrainTimer(_ => FlushAsync(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        _watchdogTimer = this.RegisterGrainTimer(_ => WatchdogAsync(), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2));
        logger.LogInformation("sweep {Sweep} coordinated on {Silo}", SweepId, RuntimeIdentity);
    }

    public async Task RunFinished(RunResult result)
    {
        // A duplicate report (a retry, or a rerun of a run already finished) still frees its place in flight.
        _dispatcher?.Finished(result.RunId);
        // Recorded while runs are wanted; one reporting to a sweep already finishing (restored as cancelled) is not.
        if (S.Phase is SweepPhase.Running or SweepPhase.Cancelling && _plan?.Get(result.RunId) is { } run && !_plan.IsFinished(result.RunId))
        {
            if (result.Succeeded) _sink!.Accept(result.RunId, result.RowsJson);
            else
            {
                S.Message = $"run {result.RunId} failed: {result.Error}";
                logger.LogWarning("sweep {Sweep}: {Message}", SweepId, S.Message);
            }
            _plan.Tell(result.RunId, result.Succeeded, result.MetricValue);
            // Recorded as finished in durable state only after its rows are on disk (FlushAsync).
            _sink!.Finish(result.RunId, new FinishedRun(run.LatticeI, run.LatticeJ, run.Seed, result.Succeeded, result.MetricValue, result.Error));
            if (_sink.NeedsEarlyFlush) await FlushAsync();
        }
        await AdvanceAsync();
    }

    public Task RunProgress(string runId, string rowsJson)
    {
        if (S.Phase is SweepPhase.Running or SweepPhase.Cancelling && _plan?.Get(runId) is not null && !_plan.IsFinished(runId))
            _sink!.Accept(runId, rowsJson);
        return Task.CompletedTask;
    }

    public Task RunInterrupted(string runId, string silo)
    {
        // Its silo is stopping; the run saved a checkpoint and deactivated. The watchdog's next tick asks for
        // it again, which creates the activation on another silo.
        if (_dispatcher?.Interrupted(runId) == true)
            logger.LogInformation("sweep {Sweep}: run {RunId} was stopped by its silo {Silo}; it will continue elsewhere", SweepId, runId, silo);
        return Task.CompletedTask;
    }

    public async Task<SweepStatus> Resume()
    {
        if (S.Phase is SweepPhase.Running or SweepPhase.Cancelling)
        {
            _dispatcher!.AllDue();
            await WatchdogAsync();
        }
        return Status();
    }

    public Task<SweepStatus> GetStatus() => Task.FromResult(Status());

    public async Task<SweepStatus> Cancel()
    {
        if (S.Phase != SweepPhase.Running) return Status();
        _plan!.DropQueued();
        S.Phase = SweepPhase.Cancelling;   // runs in flight finish and are recorded
        await SaveAsync();
        await AdvanceAsync();
        return Status();
    }

    /// <summary>Dispatches what may run, and ends the sweep when nothing is left.</summary>
    private async Task AdvanceAsync()
    {
        if (_superseded || _plan is null || _dispatcher is null) return;
        if (S.Phase == SweepPhase.Cancelling)
        {
            if (_dispatcher.InFlight == 0) await FinishAsync(SweepPhase.Cancelled);
            return;
        }
        if (S.Phase != SweepPhase.Running) return;
        await _dispatcher.RefreshSlotsAsync();
        if (S.Phase != SweepPhase.Running) return;   // cancelled while the registry answered
        // Taking and putting in flight happen with no await between: concurrent calls never overfill the window.
        var runs = _plan.Take(_dispatcher.Room);
        if (runs.Count > 0)
        {
            _dirty = true;   // new proposals are saved with the next state write (restore copes with ones lost)
            await _dispatcher.DispatchAsync(runs);
        }
        if (S.Phase == SweepPhase.Running && _plan.IsComplete && _dispatcher.InFlight == 0) await FinishAsync(SweepPhase.Complete);
    }

    /// <summary>Asks runs in flight again when due, keeps the reminder, and tops up the window.</summary>
    private async Task WatchdogAsync()
    {
        if (S.Phase is not (SweepPhase.Running or SweepPhase.Cancelling)) return;
        await _dispatcher!.TickAsync();
        if (!_reminderSet) await EnsureReminderAsync();
        await AdvanceAsync();
    }

    /// <summary>Writes accepted rows, then records the runs they finished; saves the state at most every <see cref="SaveInterval"/>.</summary>
    private async Task FlushAsync()
    {
        if (_sink is null || !_sink.HasWork && !_dirty) return;
        await _io.WaitAsync();
        try
        {
            if (_superseded) return;   // another activation owns the sweep and its files
            string? error = await _sink.FlushAsync(durable =>
            {
                foreach (var kv in durable) S.Finished[kv.Key] = kv.Value;
                if (durable.Count > 0) _dirty = true;
            });
            if (error is not null) S.Message = error;
            // The state grows with the sweep and is written whole, so at most every SaveInterval here (forced on
            // start, cancel and finish). A run finished in between is rerun after a crash and adds no row twice.
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
        if (!_dirty || _superseded || S.Phase == SweepPhase.Failed) return;
        S.ElapsedSeconds = ElapsedSeconds;
        if (_sink is not null) S.RowsWritten = _sink.RowsOnDisk;
        _dirty = false;   // cleared before the write: a change made while it is under way marks it dirty again
        try
        {
            await state.WriteStateAsync();
            _lastSave = Stopwatch.StartNew();
        }
        catch (Orleans.Storage.InconsistentStateException e)
        {
            // Another activation of this sweep saved after us: it owns the sweep now.
            logger.LogError("sweep {Sweep}: its state was changed by another activation ({Error}); deactivating", SweepId, RunDispatcher.FirstLine(e));
            _superseded = true;
            DeactivateOnIdle();
        }
        catch (Exception e)
        {
            // Storage unreachable (Redis restarting): the state stays dirty and the next flush tries again.
            _dirty = true;
            logger.LogWarning("sweep {Sweep}: could not save its state ({Error}); will retry", SweepId, RunDispatcher.FirstLine(e));
        }
    }

    /// <summary>A sweep is reported finished only once all its rows are on disk (merged) and its state says so.</summary>
    private async Task FinishAsync(SweepPhase final)
    {
        if (S.Phase is not (SweepPhase.Running or SweepPhase.Cancelling)) return;   // already on its way
        S.Phase = SweepPhase.Finishing;
        S.FinishingAs = final;
        await FlushAsync();
        while (_sink!.HasWork && !_superseded)
        {
            // Results could not be written (disk full, path gone): keep trying; status shows the message.
            await Task.Delay(TimeSpan.FromSeconds(1));
            await FlushAsync();
        }
        await _sink.CompactAsync();   // before the final state: a crash here restores and finishes it again
        S.Phase = final;
        await SaveAsync();
        while (_dirty && !_superseded)
        {
            // A finished sweep must say so durably, or a later activation would restore and rerun it.
            await Task.Delay(TimeSpan.FromSeconds(1));
            await SaveAsync();
        }
        _flushTimer?.Dispose();
        _watchdogTimer?.Dispose();
        _dispatcher!.Clear();
        _clock.Stop();
        _activity?.SetTag("sweep.state", final.Name());
        _activity?.Stop();
        try { if (await this.GetReminder(ReminderName) is { } r) await this.UnregisterReminder(r); }
        catch (Exception e) { logger.LogWarning("sweep {Sweep}: could not drop its reminder ({Error}); it will be dropped when it fires", SweepId, RunDispatcher.FirstLine(e)); }
        DelayDeactivation(TimeSpan.Zero);   // nothing runs any more: the activation may go when idle (its state answers status later)
    }

    private async Task EnsureReminderAsync()
    {
        try
        {
            await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
            _reminderSet = true;
        }
        catch (Exception e) { logger.LogWarning("sweep {Sweep}: could not register its reminder ({Error}); will retry", SweepId, RunDispatcher.FirstLine(e)); }
    }

    /// <summary>The reminder's only job is to activate the grain (OnActivateAsync restores it); a finished sweep drops it.</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName || S.Phase is not (SweepPhase.Complete or SweepPhase.Cancelled)) return;
        try { if (await this.GetReminder(ReminderName) is { } r) await this.UnregisterReminder(r); }
        catch (Exception e) { logger.LogWarning("sweep {Sweep}: could not drop its reminder ({Error})", SweepId, RunDispatcher.FirstLine(e)); }
    }

    private SweepStatus Status() => new(SweepId, S.Phase.Name(), _plan?.Queued ?? 0, _dispatcher?.InFlight ?? 0,
        _plan?.Done ?? S.Finished.Values.Count(f => f.Succeeded), _plan?.Failed ?? S.Finished.Values.Count(f => !f.Succeeded),
        _plan?.Depth ?? _ended.Depth, _plan?.MaxDepth ?? _ended.MaxDepth, _plan?.GridPoints ?? _ended.Points,
        _sink?.Rows ?? S.RowsWritten, ElapsedSeconds, S.Message, S.Redispatched, S.Recoveries);
}
