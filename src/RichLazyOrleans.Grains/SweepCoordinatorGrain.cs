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
                throw new SpecException(
                    $"sweep '{SweepId}' already exists with a different spec or results directory");
            return Status();   // the same sweep again (a client re-attaching after a restart)
        }
        var spec = SweepRuns.Validate(request.SpecYaml, Kinds, SweepId, request.ResultsDir, _roots,
            commands: _commands);
        if (RunDevice.Of(spec.Params) == DeviceRequest.Gpu
            && await GrainFactory.GetGrain<ISlotRegistryGrain>(0).TotalGpus() == 0)
            throw new SpecException($"params.device: '{spec.Params["device"]}' asks for a GPU and no silo of this "
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
}
