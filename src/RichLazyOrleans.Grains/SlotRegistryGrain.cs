using RichLazyOrleans.Engine;
using RichLazyOrleans.GrainInterfaces;

namespace RichLazyOrleans.Grains;

/// <summary>
/// The cluster's slots (key 0). Silos register their count at start and then every few seconds;
/// a silo not heard from for <see cref="Expiry"/> stops counting, so the registry needs no durable
/// state and heals by itself when it is reactivated elsewhere or a silo dies without a word.
/// </summary>
public sealed class SlotRegistryGrain : Grain, ISlotRegistryGrain
{
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan Expiry = TimeSpan.FromSeconds(20);
    private readonly Dictionary<string, (int Slots, int Gpus, DateTime Seen)> _slots = new();

    public Task Register(string silo, int slots, int gpus = 0)
    {
        _slots[silo] = (slots, gpus, DateTime.UtcNow);
        return Task.CompletedTask;
    }

    public Task<int> TotalGpus()
    {
        Expire();
        return Task.FromResult(_slots.Values.Sum(v => v.Gpus));
    }

    private void Expire()
    {
        var now = DateTime.UtcNow;
        foreach (var gone in _slots.Where(kv => now - kv.Value.Seen > Expiry).Select(kv => kv.Key).ToList())
            _slots.Remove(gone);
    }
    public Task Unregister(string silo) { _slots.Remove(silo); return Task.CompletedTask; }

    public Task<int> TotalSlots()
    {
        Expire();
        return Task.FromResult(_slots.Values.Sum(v => v.Slots));
    }
}
