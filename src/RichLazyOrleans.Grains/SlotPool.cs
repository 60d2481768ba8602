namespace RichLazyOrleans.Grains;

/// <summary>
/// This silo's device slots: at most <see cref="Slots"/> runs execute here at once. Silo-local by
/// design (a semaphore, not a cluster lock); the coordinator keeps no more runs in flight than the
/// cluster's registered slots, and the run grains are spread by activation count.
/// </summary>
public sealed class SlotPool(int slots)
{
    private readonly SemaphoreSlim _semaphore = new(slots, slots);
    private int _busy, _maxBusy;

    public int Slots { get; } = slots;
    public int Busy => Volatile.Read(ref _busy);
    /// <summary>The most runs ever executing here at the same time (for tests and metrics).</summary>
    public int MaxBusy => Volatile.Read(ref _maxBusy);

    public async Task AcquireAsync(CancellationToken ct = default)
    {
        await _semaphore.WaitAsync(ct);
        int now = Interlocked.Increment(ref _busy);
        int seen;
        while (now > (seen = Volatile.Read(ref _maxBusy)) && Interlocked.CompareExchange(ref _maxBusy, now, seen) != seen) { }
    }

    public void Release()
    {
        Interlocked.Decrement(ref _busy);
        _semaphore.Release();
    }

    /// <summary>Default: one slot per core for single-threaded runs.</summary>
    public static int DefaultSlots(int threadsPerRun = 1) => Math.Max(1, Environment.ProcessorCount / Math.Max(1, threadsPerRun));
}
