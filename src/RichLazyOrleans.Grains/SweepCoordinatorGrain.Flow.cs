using Microsoft.Extensions.Logging;

namespace RichLazyOrleans.Grains;

/// <summary>The sweep going on: dispatching what may run, the watchdog, writing rows and state, and the end.</summary>
public sealed partial class SweepCoordinatorGrain
{
    /// <summary>Dispatches what may run, and ends the sweep when nothing is left.</summary>
    private async Task AdvanceAsync()
    {
        if (!Dispatching || _writer.Superseded) return;
        if (S.Phase == SweepPhase.Running) await _dispatcher!.RefreshSlotsAsync();
        if (S.Phase == SweepPhase.Cancelling && _dispatcher!.InFlight == 0)
            await FinishAsync(S.FailedFast is null ? SweepPhase.Cancelled : SweepPhase.Failed);
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
