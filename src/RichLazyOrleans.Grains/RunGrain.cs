using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Placement;
using RichLazyOrleans.Engine;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Grains;

/// <summary>
/// One run. Start returns at once and is idempotent: the run waits for a slot on this silo, executes on the
/// slot's thread (never on the Orleans scheduler; <see cref="RunExecution"/>) and sends its rows, typed and each
/// once, to the sweep's coordinator, which writes them. When its silo dies, the coordinator's next Start
/// creates a fresh activation elsewhere, and resumable kinds continue from their last checkpoint (under a
/// shared path). When its silo shuts down, the run saves a checkpoint, tells the coordinator and deactivates,
/// so the coordinator starts it again on another silo. Placement by activation count spreads runs over silos.
/// </summary>
[ActivationCountBasedPlacement]
public sealed partial class RunGrain(SlotPool slots, PathRoots roots, CommandPolicy commands, ILogger<RunGrain> logger)
    : Grain, IRunGrain
{
    // Grain storage is used by hand, and only by resumable kinds: a [PersistentState] facet would
    // read storage on every activation, which for 10 ms synthetic runs cost 6% of a sweep's time.
    private readonly GrainState<RunGrainState> _saved = new(new RunGrainState());
    private RunGrainState State => _saved.State ??= new RunGrainState();   // a read of no state leaves null
    private RunRequest? _request;
    private JsonObject? _spec;      // parsed once per attempt
    private RunExecution? _run;
    private bool _durable;          // resumable (long) runs keep their state in grain storage; short ones rerun
    private bool _stateUnreadable, _interrupted;
    private string _status = "new";
    private IGrainTimer? _progressTimer;
    private readonly CancellationTokenSource _stop = new();   // its sweep was stopped (Stop)
    /// <summary>Set on the slot thread when the run takes its slot; the grain then tells the coordinator.</summary>
    private readonly TaskCompletionSource _began = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private const string StateName = "run";
    /// <summary>How often rows a long run produced go to its coordinator: with the coordinator's flush interval,
    /// a printed row reaches Parquet within about a second (a call only when there are rows).</summary>
    public static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(250);
    private Orleans.Storage.IGrainStorage Storage =>
        ServiceProvider.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(StorageNames.Default);
    private ISweepCoordinatorGrain Coordinator => GrainFactory.GetGrain<ISweepCoordinatorGrain>(_request!.SweepId);

    public async Task<int> Start(RunRequest request)
    {
        if (_interrupted || (_request is null && slots.IsStopping))
        {
            // This silo is leaving (or stopped this run): refuse, and let the next Start create an
            // activation elsewhere. -1 tells the coordinator to ask again soon.
            DeactivateOnIdle();
            return -1;
        }
        if (_request is not null)
        {
            // Already executing (or done) here: a repeated Start is a no-op, but a coordinator restored from its
            // state does not know the run took a slot, so say it again.
            if (_status == "running") await ReportStartedAsync();
            return 0;
        }
        var kind = RunKindRegistry.Get(request.Kind);
        var spec = JsonNode.Parse(request.SpecJson)!.AsObject();
        if (RunDevice.Of(spec) == DeviceRequest.Gpu && slots.Gpus.Count == 0)
        {
            // It asks for a GPU and this silo has none: refused here, the coordinator asks again (a fresh activation
            // is placed anew) until a silo with GPU slots takes it.
            DeactivateOnIdle();
            return -1;
        }
        // Counted from here, so a shutdown that begins while this awaits storage waits for it too.
        var execution = slots.Execution();
        (_request, _spec, _durable, _status) = (request, spec, kind.Resumable, "queued");
        _run = new RunExecution(kind, spec, new RunClock());   // the wait for a slot counts from here
        DelayDeactivation(TimeSpan.FromDays(30));   // background work does not count as activity
        // Rows of long runs reach the coordinator (and the Parquet files) while the run goes on. Only
        // resumable (training) kinds run long; theory and synthetic runs skip the timer's cost.
        if (kind.Resumable)
            // Interleaving: a send that waits on an unreachable coordinator (its silo died) must not hold up the
            // restored coordinator's Start; sends stay one at a time (_sending).
            _progressTimer = this.RegisterGrainTimer(_ => SendRowsAsync(), new GrainTimerCreationOptions
                { DueTime = ProgressEvery, Period = ProgressEvery, Interleave = true });
        if (_durable) await CountAttemptAsync(spec);
        _ = ExecuteAsync(request, spec, execution);
        return _durable ? State.Attempts : 1;
    }

    /// <summary>Counted and saved before the run starts, so the answer says whether this is a restart.</summary>
    private async Task CountAttemptAsync(JsonObject spec)
    {
        try { await Storage.ReadStateAsync(StateName, this.GetGrainId(), _saved); }
        catch (Exception e)
        {
            // Without the stored version (etag) every write would be refused: keep the state in memory only.
            _stateUnreadable = true;
            logger.LogWarning("run {RunId}: could not read its state ({Error}); it is kept in memory only",
                _request!.RunId, e.Message.Split('\n')[0]);
        }
        State.Attempts++;
        State.Silo = RuntimeIdentity;
        State.CheckpointDir = spec["checkpoint_dir"]?.GetValue<string>();
        await SaveStateAsync("queued");
    }

    public Task Stop()
    {
        _stop.Cancel();   // the run observes it between steps, saves its state and ends as interrupted
        return Task.CompletedTask;
    }

    public Task<string> GetStatus()
    {
        string attempts = _durable && State.Attempts > 1 ? $", attempt {State.Attempts}" : "";
        int rows = _run?.Rows.Count ?? 0;
        return Task.FromResult(rows > 0 ? $"{_status} ({rows} rows{attempts})" : _status + attempts);
    }

    /// <summary>Running, no longer waiting for a slot (one-way: the status is a count, best effort).</summary>
    private Task ReportStartedAsync()
    {
        _status = "running";
        return Coordinator.RunStarted(_request!.RunId);
    }

    /// <summary>Grain state is an aid (status, checkpoint location), not the truth: a failed write (Redis down) is
    /// logged, not fatal.</summary>
    private async Task SaveStateAsync(string status, string? error = null, long? resumedFrom = null)
    {
        if (!_durable || _stateUnreadable) return;
        State.Status = status;
        State.Error = error;
        if (resumedFrom is { } s) State.ResumedFromStep = s;
        State.UpdatedUtc = DateTime.UtcNow;
        try { await Storage.WriteStateAsync(StateName, this.GetGrainId(), _saved); }
        catch (Exception e)
        {
            logger.LogWarning("run {RunId}: could not save its state ({Error})", _request?.RunId,
                e.Message.Split('\n')[0]);
        }
    }
}
