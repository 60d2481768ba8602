using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using RichLazyOrleans.Engine;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Grains;

/// <summary>A run's execution on its slot and what it tells its coordinator: rows (each once), the result.</summary>
public sealed partial class RunGrain
{
    private async Task ExecuteAsync(RunRequest r, JsonObject spec, IDisposable execution)
    {
        using var _ = execution;   // a shutdown waits until this run has reported
        var run = _run!;
        string silo = RuntimeIdentity;
        if (_durable)
            logger.LogInformation("run {RunId} started on {Silo} (attempt {Attempt})", r.RunId, silo, State.Attempts);
        RunResult result;
        var counts = new RunCounts();
        try
        {
            var kind = RunKindRegistry.Get(r.Kind);
            // Again here, not only when the sweep started: any client of the gateway can start a run grain.
            roots.Check(kind, spec);
            commands.Check(r.Kind);
            int attempt = _durable ? Math.Max(1, State.Attempts) : 1;
            _status = "waiting for a slot";
            ActivityContext.TryParse(r.TraceParent, null, out var parent);   // a span per run, a child of its sweep's
            using var activity = Telemetry.Source.StartActivity("run", ActivityKind.Internal, parent);
            activity?.SetTag("run.id", r.RunId);
            activity?.SetTag("run.kind", r.Kind);
            bool gpu = RunDevice.TakesGpu(RunDevice.Of(kind, spec), slots.Gpus.Count);
            var reported = _began.Task.ContinueWith(_ => ReportStartedAsync(), TaskScheduler.Current).Unwrap();
            // On a slot thread: awaiting it frees the Orleans scheduler (the lambda touches no grain state).
            await slots.RunAsync(stopping =>
            {
                using var either = CancellationTokenSource.CreateLinkedTokenSource(stopping, _stop.Token);
                if (!either.IsCancellationRequested) _began.TrySetResult();
                run.Execute(new RunContext(r.SweepId, r.RunId, attempt, SlotPool.CurrentSlot, SlotPool.CurrentGpu,
                    Path.Combine(r.ResultsDir, "logs", r.RunId + ".log")) { Counts = counts }, SlotPool.CurrentGpu,
                    either.Token);
                return 0;
            }, gpu);
            _status = "reporting";
            var tail = await DrainRowsAsync(r, atEnd: true);
            var last = run.Rows.Last;
            string status = last?.Status ?? "ok";
            result = new RunResult(r.RunId, true, status, run.Rows.Factory.Metric(last, r.Metric), run.Rows.Count,
                run.Clock.Finished.WallSeconds, null, silo, tail, counts.IgnoredLines);
            await SaveStateAsync("done", resumedFrom: last?.ResumedFromStep);
            Telemetry.RunsCompleted.Add(1, new KeyValuePair<string, object?>("status", status));
        }
        catch (OperationCanceledException) when (slots.IsStopping || _stop.IsCancellationRequested)
        {
            await InterruptedAsync(r, spec, silo);
            return;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "run {RunId} failed", r.RunId);
            _progressTimer?.Dispose();
            result = new RunResult(r.RunId, false, "failed", null, 0, run.Clock.Finished.WallSeconds,
                $"{e.GetType().Name}: {e.Message.Split('\n')[0]}", silo, RowBatch.Empty(r.RunId), counts.IgnoredLines);
            await SaveStateAsync("failed", result.Error);
            Telemetry.RunsCompleted.Add(1, new KeyValuePair<string, object?>("status", "failed"));
        }
        _status = result.Status;
        await ReportAsync(r, result);
        if (_durable) logger.LogInformation("run {RunId} finished on {Silo}: {Status}", r.RunId, silo, result.Status);
        DeactivateOnIdle();
    }

    /// <summary>The silo is shutting down, or the sweep was stopped: the run saved its state (resumable kinds) and
    /// stopped. Its unsent rows go with the notice, so none arrives after it.</summary>
    private async Task InterruptedAsync(RunRequest r, JsonObject spec, string silo)
    {
        _status = "interrupted";
        _interrupted = true;
        var tail = await DrainRowsAsync(r, atEnd: false);
        // Teacher-student saves ckpt-STEP.bin (CheckpointStore), the other kinds state-STEP.bin (StateStore).
        long? saved = spec["checkpoint_dir"]?.GetValue<string>() is { } dir
            ? new Training.CheckpointStore(dir).Files().Concat(new Training.StateStore(dir).Files())
                .Select(f => (long?)f.Step).Max()
            : null;
        logger.LogInformation("run {RunId} interrupted on {Silo}: {Why} (newest saved state: step {Step})",
            r.RunId, silo, slots.IsStopping ? "the silo is stopping" : "its sweep was stopped",
            saved?.ToString() ?? "none");
        await SaveStateAsync("interrupted");
        try { await Coordinator.RunInterrupted(r.RunId, silo, tail); }
        catch (Exception e)
        {
            logger.LogWarning("run {RunId}: could not tell its coordinator it was interrupted ({Error})", r.RunId,
                e.Message);
        }
        DeactivateOnIdle();
    }
}
