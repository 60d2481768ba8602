using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Placement;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Results;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Grains;

/// <summary>What a run grain keeps in grain storage (resumable kinds only): where it stands and where its checkpoints are.</summary>
[GenerateSerializer]
public sealed class RunGrainState
{
    /// <summary>queued, running, interrupted, done, failed.</summary>
    [Id(0)] public string Status { get; set; } = "new";
    [Id(1)] public string? Silo { get; set; }
    /// <summary>How many times an activation started this run (more than 1: it was moved or resumed).</summary>
    [Id(2)] public int Attempts { get; set; }
    [Id(3)] public string? CheckpointDir { get; set; }
    [Id(4)] public long ResumedFromStep { get; set; }
    [Id(5)] public string? Error { get; set; }
    [Id(6)] public DateTime UpdatedUtc { get; set; }
}

/// <summary>Grain storage names (one provider: memory when embedded, Redis in a cluster).</summary>
public static class StorageNames
{
    public const string Default = "richlazy";
}

/// <summary>
/// One run. Start returns at once and is idempotent: the run waits for a slot on this silo,
/// executes the run kind on its own thread (never on the Orleans scheduler) and reports its rows to
/// the sweep's coordinator, which writes them. When its silo dies, the coordinator's next Start
/// creates a fresh activation elsewhere, and resumable kinds continue from their last checkpoint
/// (under a shared path). When its silo shuts down, the run saves a checkpoint, tells the
/// coordinator and deactivates, so the coordinator starts it again on another silo.
/// Placement by activation count spreads runs over the silos.
/// </summary>
[ActivationCountBasedPlacement]
public sealed class RunGrain(SlotPool slots, PathRoots roots, CommandPolicy commands, ILogger<RunGrain> logger)
    : Grain, IRunGrain
{
    // Grain storage is used by hand, and only by resumable kinds: a [PersistentState] facet would
    // read storage on every activation, which for 10 ms synthetic runs cost 6% of a sweep's time.
    private readonly GrainState<RunGrainState> _saved = new(new RunGrainState());
    private RunGrainState State => _saved.State ??= new RunGrainState();   // a read of no state leaves null
    private RunRequest? _request;
    private bool _durable;   // resumable (long) runs keep their state in grain storage; short ones are simply rerun
    private bool _stateUnreadable, _interrupted;
    private string _status = "new";
    // Rows not yet sent, each with the run's times when it was produced.
    private readonly System.Collections.Concurrent.ConcurrentQueue<(JsonObject Row, RunTimes Times)> _fresh = new();
    private int _sentRows;
    private readonly List<ResultRow> _sent = [];   // rows of this attempt already sent (checkpoints: few)
    private IGrainTimer? _progressTimer;
    private readonly CancellationTokenSource _stop = new();   // its sweep was stopped (Stop)
    private RunClock _clock = new();
    /// <summary>Set on the slot thread when the run takes its slot; the grain then tells the coordinator.</summary>
    private readonly TaskCompletionSource _began = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private const string StateName = "run";
    /// <summary>How often rows a long run produced go to its coordinator: with the coordinator's flush interval,
    /// a printed row reaches Parquet within about a second (a call only when there are rows).</summary>
    public static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(250);
    private Orleans.Storage.IGrainStorage Storage => ServiceProvider.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(StorageNames.Default);

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
            if (_status == "running") await ReportStartedAsync(_request);
            return 0;
        }
        var kind = RunKindRegistry.Get(request.Kind);
        if (RunDevice.Of(JsonNode.Parse(request.SpecJson)!.AsObject()) == DeviceRequest.Gpu && slots.Gpus.Count == 0)
        {
            // It asks for a GPU and this silo has none: refused here, the coordinator asks again (a fresh activation
            // is placed anew) until a silo with GPU slots takes it.
            DeactivateOnIdle();
            return -1;
        }
        // Counted from here, so a shutdown that begins while this awaits storage waits for it too.
        var execution = slots.Execution();
        _request = request;
        _durable = kind.Resumable;
        _status = "queued";
        _clock = new RunClock();   // the wait for a slot counts from here
        DelayDeactivation(TimeSpan.FromDays(30));   // background work does not count as activity
        // Rows of long runs reach the coordinator (and the Parquet files) while the run goes on. Only
        // resumable (training) kinds run long; theory and synthetic runs skip the timer's cost.
        if (kind.Resumable)
            _progressTimer = this.RegisterGrainTimer(_ => SendFreshRows(), ProgressEvery, ProgressEvery);
        if (_durable)
        {
            // Counted and saved before the run starts, so the answer says whether this is a restart.
            try { await Storage.ReadStateAsync(StateName, this.GetGrainId(), _saved); }
            catch (Exception e)
            {
                // Without the stored version (etag) every write would be refused: keep the state in memory only.
                _stateUnreadable = true;
                logger.LogWarning("run {RunId}: could not read its state ({Error}); it is kept in memory only", request.RunId, e.Message.Split('\n')[0]);
            }
            State.Attempts++;
            State.Silo = RuntimeIdentity;
            State.CheckpointDir = JsonNode.Parse(request.SpecJson)?["checkpoint_dir"]?.GetValue<string>();
            await SaveStateAsync("queued");
        }
        _ = ExecuteAsync(request, execution);
        return _durable ? State.Attempts : 1;
    }

    public Task Stop()
    {
        _stop.Cancel();   // the run observes it between steps, saves its state and ends as interrupted
        return Task.CompletedTask;
    }

    public Task<string> GetStatus()
    {
        string attempts = _durable && State.Attempts > 1 ? $", attempt {State.Attempts}" : "";
        return Task.FromResult(_sentRows > 0 ? $"{_status} ({_sentRows} rows reported{attempts})" : _status + attempts);
    }

    /// <summary>Running, no longer waiting for a slot (one-way: the status is a count, best effort).</summary>
    private Task ReportStartedAsync(RunRequest r)
    {
        _status = "running";
        return GrainFactory.GetGrain<ISweepCoordinatorGrain>(r.SweepId).RunStarted(r.RunId);
    }

    private async Task SendFreshRows()
    {
        if (_request is not { } r || TakeFreshRows() is not { } json) return;
        await GrainFactory.GetGrain<ISweepCoordinatorGrain>(r.SweepId).RunProgress(r.RunId, json);
    }

    /// <summary>Rows produced and not yet sent, as JSON of the result schema; null when there are none. With
    /// <paramref name="all"/>, every row this attempt produced: one-way progress calls may still be on their way
    /// when the run stops, and the coordinator keeps each (run_id, step) once.</summary>
    private string? TakeFreshRows(bool all = false)
    {
        if (_request is not { } r || _fresh.IsEmpty && !(all && _sent.Count > 0)) return null;
        var spec = (JsonObject)JsonNode.Parse(r.SpecJson)!;
        var rows = new List<ResultRow>();
        while (_fresh.TryDequeue(out var fresh))
            rows.AddRange(RunRows.ToResultRows(r, spec, [fresh.Row], fresh.Times, RuntimeIdentity));
        _sentRows += rows.Count;
        _sent.AddRange(rows);
        return System.Text.Json.JsonSerializer.Serialize(all ? _sent : rows);
    }

    /// <summary>Grain state is an aid (status, checkpoint location), not the truth: a failed write (Redis down) is logged, not fatal.</summary>
    private async Task SaveStateAsync(string status, string? error = null, long? resumedFrom = null)
    {
        if (!_durable || _stateUnreadable) return;
        State.Status = status;
        State.Error = error;
        if (resumedFrom is { } s) State.ResumedFromStep = s;
        State.UpdatedUtc = DateTime.UtcNow;
        try { await Storage.WriteStateAsync(StateName, this.GetGrainId(), _saved); }
        catch (Exception e) { logger.LogWarning("run {RunId}: could not save its state ({Error})", _request?.RunId, e.Message.Split('\n')[0]); }
    }

    private async Task ExecuteAsync(RunRequest r, IDisposable execution)
    {
        using var _ = execution;   // a shutdown waits until this run has reported
        var clock = _clock;
        RunResult result;
        string silo = RuntimeIdentity;
        var spec = (JsonObject)JsonNode.Parse(r.SpecJson)!;
        if (_durable)
        {
            logger.LogInformation("run {RunId} started on {Silo} (attempt {Attempt})", r.RunId, silo, State.Attempts);
        }
        try
        {
            // Again here, not only when the sweep started: any client of the gateway can start a run grain.
            roots.Check(RunKindRegistry.Get(r.Kind), spec);
            commands.Check(r.Kind);
            int attempt = _durable ? Math.Max(1, State.Attempts) : 1;
            _status = "waiting for a slot";
            // A span per run, a child of its sweep's trace.
            ActivityContext.TryParse(r.TraceParent, null, out var parent);
            using var activity = Telemetry.Source.StartActivity("run", ActivityKind.Internal, parent);
            activity?.SetTag("run.id", r.RunId);
            activity?.SetTag("run.kind", r.Kind);
            // The run executes on one of this silo's slot threads; awaiting it here frees the
            // Orleans scheduler, and the continuation comes back to this activation.
            // (The lambda runs on a slot thread, so it touches no grain state; the clock and the
            // queue of fresh rows are thread-safe.) Execution is timed from the moment the slot takes it.
            bool gpu = RunDevice.TakesGpu(RunDevice.Of(RunKindRegistry.Get(r.Kind), spec), slots.Gpus.Count);
            var reported = _began.Task.ContinueWith(_ => ReportStartedAsync(r), TaskScheduler.Current).Unwrap();
            var rows = await slots.RunAsync(stopping =>
            {
                using var either = CancellationTokenSource.CreateLinkedTokenSource(stopping, _stop.Token);
                either.Token.ThrowIfCancellationRequested();   // stopped while it waited for a slot
                clock.Begin();
                _began.TrySetResult();
                try
                {
                    var context = new RunContext(r.SweepId, r.RunId, attempt, SlotPool.CurrentSlot, SlotPool.CurrentGpu,
                        Path.Combine(r.ResultsDir, "logs", r.RunId + ".log"));
                    var kind = RunKindRegistry.Get(r.Kind);
                    var pinned = RunDevice.Pin(kind, (JsonObject)spec.DeepClone(), SlotPool.CurrentGpu);
                    return kind.Run(new Spec(pinned), context, null,
                        row => _fresh.Enqueue(((JsonObject)row.DeepClone(), clock.Now())), either.Token);
                }
                finally { clock.End(); }
            }, gpu);
            _progressTimer?.Dispose();
            _status = "reporting";
            var resultRows = RunRows.ToResultRows(r, spec, rows, clock.Finished, silo);
            var last = resultRows.Count > 0 ? resultRows[^1] : null;
            string status = last?.Status ?? "ok";
            result = new RunResult(r.RunId, true, status, r.Metric is null ? null : last?.Metric(r.Metric), resultRows.Count,
                clock.Finished.WallSeconds, null, silo, System.Text.Json.JsonSerializer.Serialize(resultRows));
            await SaveStateAsync("done", resumedFrom: last?.ResumedFromStep);
            Telemetry.RunsCompleted.Add(1, new KeyValuePair<string, object?>("status", status));
        }
        catch (OperationCanceledException) when (slots.IsStopping || _stop.IsCancellationRequested)
        {
            // The silo is shutting down, or the sweep was stopped: the run saved its state (resumable kinds) and
            // stopped.
            _progressTimer?.Dispose();
            _status = "interrupted";
            _interrupted = true;
            // Teacher-student saves ckpt-STEP.bin (CheckpointStore), the other kinds state-STEP.bin (StateStore).
            long? saved = spec["checkpoint_dir"]?.GetValue<string>() is { } dir
                ? new Training.CheckpointStore(dir).Files().Concat(new Training.StateStore(dir).Files()).Select(f => (long?)f.Step).Max()
                : null;
            logger.LogInformation("run {RunId} interrupted on {Silo}: {Why} (newest saved state: step {Step})",
                r.RunId, silo, slots.IsStopping ? "the silo is stopping" : "its sweep was stopped",
                saved?.ToString() ?? "none");
            string? last = TakeFreshRows(all: true);   // sent with the notice below, so none arrives after it
            await SaveStateAsync("interrupted");
            try { await GrainFactory.GetGrain<ISweepCoordinatorGrain>(r.SweepId).RunInterrupted(r.RunId, silo, last); }
            catch (Exception e) { logger.LogWarning("run {RunId}: could not tell its coordinator it was interrupted ({Error})", r.RunId, e.Message); }
            DeactivateOnIdle();
            return;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "run {RunId} failed", r.RunId);
            result = new RunResult(r.RunId, false, "failed", null, 0, clock.Finished.WallSeconds,
                $"{e.GetType().Name}: {e.Message.Split('\n')[0]}", silo, "[]");
            await SaveStateAsync("failed", result.Error);
            Telemetry.RunsCompleted.Add(1, new KeyValuePair<string, object?>("status", "failed"));
        }
        _status = result.Status;
        await ReportAsync(r, result);
        if (_durable) logger.LogInformation("run {RunId} finished on {Silo}: {Status}", r.RunId, silo, result.Status);
        DeactivateOnIdle();
    }

    /// <summary>
    /// Reports the result, retrying while the coordinator is unreachable (its silo died and it is
    /// being restored elsewhere). The coordinator accepts each run once, so a retry cannot duplicate.
    /// </summary>
    private async Task ReportAsync(RunRequest r, RunResult result)
    {
        var delay = TimeSpan.FromSeconds(1);
        for (var deadline = DateTime.UtcNow.AddMinutes(10); ; delay = TimeSpan.FromSeconds(Math.Min(15, delay.TotalSeconds * 2)))
        {
            try { await GrainFactory.GetGrain<ISweepCoordinatorGrain>(r.SweepId).RunFinished(result); return; }
            catch (Exception e) when (DateTime.UtcNow < deadline)
            {
                logger.LogWarning("run {RunId}: could not report to its coordinator ({Error}); retrying in {Delay} s", r.RunId, e.Message.Split('\n')[0], delay.TotalSeconds);
                await Task.Delay(delay);
            }
            catch (Exception e)
            {
                // The coordinator re-dispatches runs it has not heard of, so this run will be asked for again.
                logger.LogError(e, "could not report run {RunId} to its coordinator", r.RunId);
                return;
            }
        }
    }

    /// <summary>
    /// A run's times. Made when Start accepts the run; <see cref="Begin"/> and <see cref="End"/> are called
    /// on the slot thread around the execution. Begin happens before the run produces any row, and
    /// rows reach the grain through a concurrent queue, so every row sees the start.
    /// </summary>
    private sealed class RunClock
    {
        private readonly long _accepted = Stopwatch.GetTimestamp();
        private long _began;
        private DateTime _startedAt;
        private double _queuedSeconds;
        private RunTimes _finished;
        private volatile bool _hasBegun, _hasEnded;

        public void Begin()
        {
            _began = Stopwatch.GetTimestamp();
            _startedAt = DateTime.UtcNow;
            _queuedSeconds = Stopwatch.GetElapsedTime(_accepted, _began).TotalSeconds;
            _hasBegun = true;
        }

        /// <summary>The times of a row produced now. Finished is start + monotonic elapsed time, so
        /// finished_at − started_at equals wall_seconds even if the system clock is stepped meanwhile.</summary>
        public RunTimes Now()
        {
            if (!_hasBegun) return default;
            var elapsed = Stopwatch.GetElapsedTime(_began);
            return new RunTimes(_startedAt, _startedAt + elapsed, _queuedSeconds, elapsed.TotalSeconds);
        }

        public void End()
        {
            _finished = Now();
            _hasEnded = true;
        }

        /// <summary>The times at the end of the execution (all zero for a run that never got a slot).</summary>
        public RunTimes Finished => _hasEnded ? _finished : default;
    }
}
