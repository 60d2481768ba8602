using RichLazyOrleans.Engine;
using Microsoft.Extensions.Logging;
using RichLazyOrleans.GrainInterfaces;

namespace RichLazyOrleans.Grains;

/// <summary>What a user asks of a sweep after it started: resume, delete, status, cancel, stop.</summary>
public sealed partial class SweepCoordinatorGrain
{
    public async Task<SweepStatus> Resume()
    {
        if (Dispatching) { _dispatcher!.AllDue(); await WatchdogAsync(); }
        else if (S.Phase is SweepPhase.Cancelled or SweepPhase.Failed && S.SpecYaml.Length > 0)
        {
            // Continue a stopped sweep: restored from its state and the rows on disk, like after a crash.
            (S.Phase, S.Message, S.FailedFast) = (SweepPhase.Running, null, null);
            await RestoreAsync();
        }
        return Status();
    }

    public async Task<string> Delete()
    {
        if (S.Phase.IsActive()) throw new SpecException($"sweep '{SweepId}' is {S.Phase.Name()}; cancel it first");
        string dir = S.ResultsDir;
        await _reminder.DropAsync();
        await GrainFactory.GetGrain<ISweepRegistryGrain>(0).Remove(SweepId);
        await _state.ClearStateAsync();
        _state.State = new SweepGrainState();
        (_plan, _dispatcher, _sink, _outputs, _ended) = (null, null, null, null, default);
        DeactivateOnIdle();
        return dir;
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

    public async Task<SweepStatus> Stop()
    {
        await Cancel();
        if (S.Phase != SweepPhase.Cancelling) return Status();
        // Each run saves its state and reports itself interrupted (RunInterrupted); the sweep ends as cancelled
        // when the last one has. A run that cannot be reached finishes or is found by the watchdog as before.
        var stops = _dispatcher!.Runs.Select(r => GrainFactory.GetGrain<IRunGrain>($"{r.SweepId}/{r.RunId}").Stop());
        try { await Task.WhenAll(stops); }
        catch (Exception e)
        {
            _logger.LogWarning("sweep {Sweep}: could not stop every run ({Error})", SweepId, e.Message);
        }
        return Status();
    }
}
