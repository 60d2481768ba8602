using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RichLazyOrleans.Engine;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Grains;

/// <summary>A sweep coming back from its saved state and the rows on disk, and the in-memory side every running
/// sweep sets up.</summary>
public sealed partial class SweepCoordinatorGrain
{
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
            || S.Phase == SweepPhase.Finishing && S.FinishingAs == SweepPhase.Cancelled
            || S.FailedFast is not null;   // stopped because its first runs all failed: it does not run on
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
}
