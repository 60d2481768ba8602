using RichLazyOrleans.Engine;
using RichLazyOrleans.GrainInterfaces;

namespace RichLazyOrleans.Grains;

/// <summary>Which sweeps exist, kept in grain storage so `sweep list` survives restarts (one write per change).
/// </summary>
[GenerateSerializer]
public sealed class SweepRegistryState
{
    [Id(0)] public SortedSet<string> Sweeps { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The cluster's list of sweeps (key 0): coordinators add themselves when they start and leave when
/// deleted.</summary>
public sealed class SweepRegistryGrain(
    [PersistentState("sweeps", StorageNames.Default)] IPersistentState<SweepRegistryState> state)
    : Grain, ISweepRegistryGrain
{
    public async Task Add(string sweepId)
    {
        if (state.State.Sweeps.Add(sweepId)) await state.WriteStateAsync();
    }

    public async Task Remove(string sweepId)
    {
        if (state.State.Sweeps.Remove(sweepId)) await state.WriteStateAsync();
    }

    public Task<string[]> List() => Task.FromResult(state.State.Sweeps.ToArray());
}
