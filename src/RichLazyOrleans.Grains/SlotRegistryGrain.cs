using RichLazyOrleans.GrainInterfaces;

namespace RichLazyOrleans.Grains;

/// <summary>The cluster's slots (key 0): each silo registers its count when it starts.</summary>
public sealed class SlotRegistryGrain : Grain, ISlotRegistryGrain
{
    private readonly Dictionary<string, int> _slots = new();

    public Task Register(string silo, int slots) { _slots[silo] = slots; return Task.CompletedTask; }
    public Task Unregister(string silo) { _slots.Remove(silo); return Task.CompletedTask; }
    public Task<int> TotalSlots() => Task.FromResult(_slots.Values.Sum());
}
