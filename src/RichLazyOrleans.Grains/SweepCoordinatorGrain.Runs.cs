using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using RichLazyOrleans.Engine;
using RichLazyOrleans.GrainInterfaces;

namespace RichLazyOrleans.Grains;

/// <summary>What the runs tell their coordinator (finished, rows so far, took a slot, interrupted), and the status it
/// gives back.</summary>
public sealed partial class SweepCoordinatorGrain
{
    public async Task RunFinished(RunResult result)
    {
        // A duplicate report (a retry, or a rerun of a run already finished) still frees its place in flight.
        _dispatcher?.Finished(result.RunId);
        var columns = Dispatching ? _plan!.Columns(result.RunId) : null;
        // Recorded while runs are wanted; a report to a sweep already finishing (restored as cancelled) is not.
        if (Dispatching && _plan!.Tell(result) is { } finished)
        {
            S.IgnoredLines += result.IgnoredLines;
            if (result.Succeeded && columns is not null) _sink!.Accept(columns, result.Tail);
            else
            {
                if (S.FailedFast is null) S.Message = $"run {result.RunId} failed: {result.Error}";
                _logger.LogWarning("sweep {Sweep}: run {RunId} failed: {Error}", SweepId, result.RunId, result.Error);
            }
            _sink!.Finish(result.RunId, finished);   // recorded in durable state once its rows are on disk (FlushAsync)
            if (!result.Succeeded) await FailFastAsync();
            if (_sink.NeedsEarlyFlush) await FlushAsync();
        }
        await AdvanceAsync();
    }

    public Task RunProgress(Immutable<RowBatch> batch)
    {
        if (Dispatching && _plan!.Columns(batch.Value.RunId) is { } columns)
        {
            _sink!.Accept(columns, batch.Value);
            _streamed = true;
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// The sweep's first runs all failed with one reason (at least max_failures of them, none succeeded): running
    /// the rest would fail them alike (a misspelt path, a missing module), so the sweep stops with that reason;
    /// runs already started finish, and it ends as failed. `sweep resume` continues it once the cause is fixed.
    /// </summary>
    private async Task FailFastAsync()
    {
        int limit = _plan!.Spec.MaxFailures;
        if (limit <= 0 || S.Phase != SweepPhase.Running || _plan.Done > 0 || _plan.Failed < limit) return;
        var reasons = S.Finished.Values.Concat(_sink!.Unflushed).Where(f => !f.Succeeded).Select(f => f.Error)
            .Distinct().ToList();
        if (reasons.Count != 1) return;
        S.FailedFast = S.Message = $"the first {_plan.Failed} runs all failed with the same reason, so the sweep "
            + $"stopped (max_failures: {limit}): {reasons[0]}";
        _logger.LogError("sweep {Sweep}: {Message}", SweepId, S.Message);
        await Cancel();
    }

    public Task RunStarted(string runId)
    {
        if (_dispatcher?.IsInFlight(runId) == true) _executing.Add(runId);
        return Task.CompletedTask;
    }

    public async Task RunInterrupted(string runId, string silo, RowBatch? tail = null)
    {
        if (tail is not null) await RunProgress(new(tail));
        if (S.Phase == SweepPhase.Cancelling)
        {
            // No run starts again while a sweep is being cancelled: this one saved its state and is left for
            // `sweep resume` (its rows so far are written; it is not finished).
            if (_dispatcher?.Finished(runId) == true) await AdvanceAsync();
            return;
        }
        // Its silo is stopping; the run saved a checkpoint. The watchdog's next tick starts it on another silo.
        if (_dispatcher?.Interrupted(runId) == true)
            _logger.LogInformation("sweep {Sweep}: run {RunId} was stopped by its silo {Silo}; it continues elsewhere",
                SweepId, runId, silo);
    }

    private SweepStatus Status()
    {
        // Runs in flight either execute on a slot (they said so: RunStarted) or wait on their silo for one.
        _executing.RemoveWhere(id => _dispatcher?.IsInFlight(id) != true);
        int inFlight = _dispatcher?.InFlight ?? 0;
        return new(SweepId, S.Phase.Name(), _plan?.Queued ?? 0, _executing.Count,
            _plan?.Done ?? S.Finished.Values.Count(f => f.Succeeded),
            _plan?.Failed ?? S.Finished.Values.Count(f => !f.Succeeded),
            _plan?.Depth ?? _ended.Depth, _plan?.MaxDepth ?? _ended.MaxDepth, _plan?.GridPoints ?? _ended.Points,
            _sink?.Rows ?? S.RowsWritten, ElapsedSeconds, S.Message, S.Redispatched, S.Recoveries,
            SweepFailures.Count(S.Finished.Values.Concat(_sink?.Unflushed ?? [])),
            inFlight - _executing.Count, S.ResultsDir, S.IgnoredLines);
    }
}
