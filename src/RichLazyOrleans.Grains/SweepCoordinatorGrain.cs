using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using RichLazyOrleans.Engine;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Grains;

/// <summary>
/// One sweep: its phases and its conversations. The parts, one job each: <see cref="SweepPlan"/> (the
/// planner's proposals, what waits and what finished), <see cref="RunDispatcher"/> (the in-flight window and
/// the watchdog), <see cref="ResultSink"/> (each (run_id, step) once, batched atomic Parquet writes, the
/// ledger, compaction at the end), <see cref="SweepStateWriter"/> (when the state is written). No rounds:
/// whenever a run finishes or the watchdog ticks and the window has room, the planner is asked for that many
/// runs and they are dispatched at once; the sweep is complete when the planner wants nothing more and
/// nothing is in flight.
///
/// Durable: <see cref="SweepGrainState"/> is saved in grain storage (Redis in a cluster) and a reminder
/// brings the sweep back after its silo dies; on activation it restores itself from that state and the
/// Parquet files already written, and dispatches every unfinished run again. Run grains treat a repeated
/// Start as a no-op, and a fresh activation of a run whose silo died resumes from its last checkpoint.
/// </summary>
[Reentrant]
public sealed partial class SweepCoordinatorGrain : Grain, ISweepCoordinatorGrain, IRemindable
{
    private static IReadOnlyDictionary<string, KindInfo> Kinds => KindCatalog.Kinds;

    private readonly IPersistentState<SweepGrainState> _state;
    private readonly ILogger _logger;
    private readonly SweepStateWriter _writer;
    private readonly SweepReminder _reminder;
    private readonly Stopwatch _clock = new();
    private SweepPlan? _plan;
    private RunDispatcher? _dispatcher;
    private readonly HashSet<string> _executing = [];   // in-flight runs that took a slot (RunStarted)
    private ResultSink? _sink;
    private SweepOutputs? _outputs;
    private Activity? _activity;
    private IGrainTimer? _flushTimer, _watchdogTimer;
    private double _elapsedBase;                             // seconds spent by earlier activations
    private (int Points, int Depth, int MaxDepth) _ended;    // a finished sweep's status, without a plan

    private readonly ClusterIdentity _cluster;
    private readonly SweepOptions _options;
    private readonly PathRoots _roots;
    private readonly CommandPolicy _commands;
    private int _failedFlushes;   // consecutive batch writes that failed

    public SweepCoordinatorGrain(ILogger<SweepCoordinatorGrain> logger, ClusterIdentity cluster, SweepOptions options,
        PathRoots roots, CommandPolicy commands,
        [PersistentState("sweep", StorageNames.Default)] IPersistentState<SweepGrainState> state)
    {
        _cluster = cluster;
        _roots = roots;
        _commands = commands;
        _options = options;
        _state = state;
        _logger = logger;
        _writer = new SweepStateWriter(state.WriteStateAsync, () =>
        {
            S.ElapsedSeconds = ElapsedSeconds;
            if (_sink is not null) S.RowsWritten = _sink.RowsOnDisk;
        }, DeactivateOnIdle, logger, SweepId);
        _reminder = new SweepReminder(this, logger, SweepId);
    }

    /// <summary>
    /// Rows streamed by running runs are written this often, so a row a long run prints reaches Parquet within
    /// about a second (measured: median 0.5 s, max 0.7 s); rows of finished runs every <see cref="FlushFinished"/>
    /// (writing those every 0.5 s cost 1.5% more on 2 000 runs of 10 ms: a file and an fsync per write).
    /// </summary>
    public static readonly TimeSpan FlushEvery = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan FlushFinished = TimeSpan.FromSeconds(1);
    private readonly Stopwatch _sinceFlush = Stopwatch.StartNew();
    private bool _streamed;   // rows of running runs arrived since the last write

    private SweepGrainState S => _state.State;
    private string SweepId => this.GetPrimaryKeyString();
    private double ElapsedSeconds => _plan is null ? S.ElapsedSeconds : _elapsedBase + _clock.Elapsed.TotalSeconds;
    private bool Dispatching => S.Phase is SweepPhase.Running or SweepPhase.Cancelling;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!S.Phase.IsActive())
        {
            _ended = SweepPlan.Summary(S.SpecYaml, Kinds, S.Proposed);   // new, or finished: status from its state
            return;
        }
        // A sweep that was going on when its previous activation died (or its silos stopped) comes back by itself.
        try { await RestoreAsync(); }
        catch (Exception e)
        {
            // Answer status with the reason rather than failing every call. Not saved (no timer, no save path
            // in this phase): the reminder's next tick deactivates it and the activation after tries again.
            _flushTimer?.Dispose();
            _watchdogTimer?.Dispose();
            DelayDeactivation(TimeSpan.Zero);
            S.Phase = SweepPhase.Failed;
            S.Message = $"could not restore the sweep: {e.GetType().Name}: {RunDispatcher.FirstLine(e)}";
            _logger.LogError(e, "sweep {Sweep}: {Message}", SweepId, S.Message);
        }
    }

    /// <summary>Leaving gracefully (its silo is stopping): rows and state to disk first, so nothing is lost.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (S.Phase.IsActive() && _sink is not null) { await FlushAsync(); await SaveAsync(); }
    }

    public async Task<SweepStatus> Start(SweepRequest request)
    {
        if (S.Phase != SweepPhase.New)
        {
            if (request.SpecYaml != S.SpecYaml || request.ResultsDir != S.ResultsDir)
                throw new ArgumentException(
                    $"sweep '{SweepId}' already exists with a different spec or results directory");
            return Status();   // the same sweep again (a client re-attaching after a restart)
        }
        var spec = SweepRuns.Validate(request.SpecYaml, Kinds, SweepId, request.ResultsDir, _roots,
            commands: _commands);
        if (RunDevice.Of(spec.Params) == DeviceRequest.Gpu
            && await GrainFactory.GetGrain<ISlotRegistryGrain>(0).TotalGpus() == 0)
            throw new ArgumentException($"params.device: '{spec.Params["device"]}' asks for a GPU and no silo of this "
                + "cluster has a GPU slot (start silos with --gpus)");

        // Rows of an earlier attempt of this sweep (its silo was embedded and is gone) count as written.
        var sink = new ResultSink(SweepId, request.ResultsDir, _logger);
        sink.AcquireLock(_cluster.Id);   // one sweep per results directory, before anything is read or written
        Ledger ledger;
        try { ledger = await sink.ReadLedgerAsync(S.Finished, request.SpecYaml); }
        catch { sink.ReleaseLock(); throw; }
        (S.SpecYaml, S.ResultsDir, S.Phase) = (request.SpecYaml, request.ResultsDir, SweepPhase.Running);
        Begin(spec, sink, ledger);
        await SaveAsync();   // durable before the first run starts
        await GrainFactory.GetGrain<ISweepRegistryGrain>(0).Add(SweepId);
        await _reminder.EnsureAsync();
        await AdvanceAsync();
        return Status();
    }

    /// <summary>Rebuilds a sweep from its saved state and the rows on disk; dispatches every unfinished run.</summary>
    private async Task RestoreAsync()
    {
        var sink = new ResultSink(SweepId, S.ResultsDir, _logger);
        sink.AcquireLock(_cluster.Id);
        var ledger = await sink.ReadLedgerAsync(S.Finished);
        Begin(SweepSpec.Parse(S.SpecYaml, Kinds), sink, ledger);
        S.Recoveries++;
        _logger.LogWarning("sweep {Sweep} restored: {Points} points, {Finished} runs finished, {Queued} to run, {Rows} "
            + "rows on disk (recovery {N})", SweepId, _plan!.GridPoints, S.Finished.Count, _plan.Queued, ledger.Rows,
            S.Recoveries);
        bool cancelled = S.Phase == SweepPhase.Cancelling
            || S.Phase == SweepPhase.Finishing && S.FinishingAs == SweepPhase.Cancelled;
        // A sweep that was finishing as complete goes on running: it ends again once every run is durably told.
        S.Phase = cancelled ? SweepPhase.Cancelling : SweepPhase.Running;
        await SaveAsync();
        await _reminder.EnsureAsync();
        await AdvanceAsync();
    }

    /// <summary>Sets up the in-memory side of a running sweep (fresh or restored).</summary>
    private void Begin(SweepSpec spec, ResultSink sink, Ledger ledger)
    {
        _activity = Telemetry.Source.StartActivity("sweep", ActivityKind.Internal);
        _activity?.SetTag("sweep.id", spec.Name);
        _sink = sink;
        var runs = new SweepRuns(spec, S.ResultsDir, _activity?.Id);
        sink.Columns = runs.Schema.ExtraColumns;
        _outputs = new SweepOutputs(runs, S.ResultsDir, _logger, SweepId);
        _outputs.BeginManifest(S.SpecYaml);
        _plan = SweepPlan.Restore(runs, S.Proposed, S.Finished,
            ledger.Runs, warning => _logger.LogWarning("sweep {Sweep}: {Warning}", SweepId, warning));
        _dispatcher = new RunDispatcher(() => GrainFactory.GetGrain<ISlotRegistryGrain>(0).TotalSlots(),
            run => GrainFactory.GetGrain<IRunGrain>($"{run.SweepId}/{run.RunId}").Start(run),
            (_, _) => { S.Redispatched++; _writer.MarkDirty(); }, _logger, SweepId);
        _elapsedBase = S.ElapsedSeconds;
        _clock.Restart();   // a resumed sweep counts on from its saved elapsed time
        DelayDeactivation(TimeSpan.FromDays(30));
        _flushTimer = this.RegisterGrainTimer(
            _ => _streamed || _sinceFlush.Elapsed >= FlushFinished ? FlushAsync() : Task.CompletedTask,
            FlushEvery, FlushEvery);
        _watchdogTimer = this.RegisterGrainTimer(_ => WatchdogAsync(), TimeSpan.FromSeconds(2),
            TimeSpan.FromSeconds(2));
        _logger.LogInformation("sweep {Sweep} coordinated on {Silo}", SweepId, RuntimeIdentity);
    }

    /// <summary>Dispatches what may run, and ends the sweep when nothing is left.</summary>
    private async Task AdvanceAsync()
    {
        if (!Dispatching || _writer.Superseded) return;
        if (S.Phase == SweepPhase.Running) await _dispatcher!.RefreshSlotsAsync();
        if (S.Phase == SweepPhase.Cancelling && _dispatcher!.InFlight == 0) await FinishAsync(SweepPhase.Cancelled);
        if (S.Phase != SweepPhase.Running) return;
        // Taking and putting in flight happen with no await between: concurrent calls never overfill the window.
        var runs = _plan!.Take(_dispatcher!.Room);
        if (runs.Count > 0)
        {
            _writer.MarkDirty();   // proposals are saved with the next write; restore copes with ones a crash lost
            await _dispatcher.DispatchAsync(runs);
        }
        if (S.Phase == SweepPhase.Running && _plan.IsComplete && _dispatcher.InFlight == 0)
            await FinishAsync(SweepPhase.Complete);
    }

    /// <summary>Asks runs in flight again when due, keeps the reminder, and tops up the window.</summary>
    private async Task WatchdogAsync()
    {
        if (!Dispatching) return;
        if (_failedFlushes >= _options.MaxFailedFlushes)
        {
            // Results cannot be written (disk full, directory gone): running on would only pile rows up in memory.
            _logger.LogError("sweep {Sweep}: {N} result writes failed in a row ({Error}); stopping", SweepId,
                _failedFlushes, S.Message);
            await FinishAsync(SweepPhase.Failed);
            return;
        }
        await _dispatcher!.TickAsync();
        _sink?.RenewLock();
        if (!_reminder.IsSet) await _reminder.EnsureAsync();
        await AdvanceAsync();
    }

    /// <summary>Writes accepted rows, then records the runs they finished; saves when due (SweepStateWriter).</summary>
    private Task FlushAsync() => _sink is null || !_sink.HasWork && !_writer.Dirty ? Task.CompletedTask
        : _writer.RunAsync(async () =>
    {
        _streamed = false;
        _sinceFlush.Restart();
        string? error = await _sink.FlushAsync(durable =>
        {
            foreach (var (runId, run) in durable) S.Finished[runId] = run;
            if (durable.Count > 0) _writer.MarkDirty();
        });
        // A flush finishing after the sweep ended must not overwrite the final reason in its status.
        if (error is not null && S.Phase.IsActive()) { S.Message = error; _failedFlushes++; }
        else _failedFlushes = 0;
        await _outputs!.RefreshAsync(_plan!, force: false);
    }, force: false);

    private Task SaveAsync() => _writer.RunAsync(null, force: true);

    /// <summary>A sweep is reported finished only once its rows are on disk (merged) and its state says so.</summary>
    private async Task FinishAsync(SweepPhase final)
    {
        if (!Dispatching) return;   // already on its way
        (S.Phase, S.FinishingAs) = (SweepPhase.Finishing, final);
        // Results that cannot be written (disk full, path gone) are tried a bounded number of times; then the
        // sweep fails with the reason, and a rerun into the same directory runs what is missing.
        await FlushAsync();
        for (int tries = 1; _sink!.HasWork && !_writer.Superseded && tries < _options.FinishWriteTries; tries++)
        {
            await Task.Delay(_options.RetryDelay(tries - 1));
            await FlushAsync();
        }
        // Also when the last flushes had nothing left to write: the sweep stopped because writes kept failing.
        if (_sink.HasWork || _failedFlushes >= _options.MaxFailedFlushes)
        {
            final = SweepPhase.Failed;
            S.Message = $"results could not be written ({_sink.Unflushed.Count()} finished run(s) not saved; "
                + $"a rerun into the same directory runs them again): {S.Message}";
            _logger.LogError("sweep {Sweep}: {Message}", SweepId, S.Message);
        }
        else
        {
            await _sink.CompactAsync();   // before the final state: a crash here restores and finishes again
            await _outputs!.RefreshAsync(_plan!, force: true);
            _outputs.FinishManifest(final.Name(), _sink.Silos);
        }
        S.Phase = final;
        // A finished sweep must say so durably, or a later activation would restore and rerun it.
        await SaveAsync();
        while (_writer.Dirty && !_writer.Superseded) { await Task.Delay(TimeSpan.FromSeconds(1)); await SaveAsync(); }
        _flushTimer?.Dispose();
        _watchdogTimer?.Dispose();
        _sink.ReleaseLock();
        _dispatcher!.Clear();
        _plan!.DropQueued();   // a sweep restored as cancelled never dispatches what waited
        _clock.Stop();
        _activity?.SetTag("sweep.state", final.Name());
        _activity?.Stop();
        await _reminder.DropAsync();
        DelayDeactivation(TimeSpan.Zero);   // nothing runs any more: the activation may go when idle
    }

    /// <summary>
    /// The reminder activates the grain (which restores itself). A finished sweep drops it, and so does one that
    /// reads as new (saved by a round-based build); one whose restore failed deactivates, so the next tick tries
    /// the restore again on a fresh activation.
    /// </summary>
    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != SweepReminder.Name) return Task.CompletedTask;
        if (S.Phase == SweepPhase.Failed) DeactivateOnIdle();
        return S.Phase is SweepPhase.Complete or SweepPhase.Cancelled or SweepPhase.New
            ? _reminder.DropAsync() : Task.CompletedTask;
    }
}
