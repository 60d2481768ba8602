using System.Collections.Concurrent;

namespace RichLazyOrleans.Grains;

/// <summary>
/// This silo's device slots: K long-lived threads, so at most K runs execute here at once and no
/// run ever executes on the Orleans scheduler. Silo-local by design (no cluster lock); the
/// coordinator keeps a bounded number of runs in flight for the cluster's registered slots, and
/// run grains are spread by activation count. Reusing the threads (instead of a new thread per
/// run) matters for short runs: it is part of what keeps orchestration overhead small.
/// </summary>
public sealed class SlotPool : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread[] _threads;
    private int _busy, _maxBusy;

    public int Slots { get; }
    public int Busy => Volatile.Read(ref _busy);
    /// <summary>The most runs ever executing here at the same time (for tests and metrics).</summary>
    public int MaxBusy => Volatile.Read(ref _maxBusy);

    public SlotPool(int slots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        Slots = slots;
        _threads = Enumerable.Range(0, slots).Select(i => new Thread(Loop) { IsBackground = true, Name = $"richlazy-slot-{i}" }).ToArray();
        foreach (var t in _threads) t.Start();
        Telemetry.Meter.CreateObservableGauge("richlazy.slots.busy", () => Busy, description: "runs executing on this silo's slots");
        Telemetry.Meter.CreateObservableGauge("richlazy.slots.utilisation", () => Busy / (double)Slots, description: "busy slots / slots on this silo");
    }

    private void Loop()
    {
        foreach (var work in _work.GetConsumingEnumerable()) work();
    }

    /// <summary>Runs <paramref name="work"/> on a slot thread when one is free.</summary>
    public Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            int now = Interlocked.Increment(ref _busy);
            int seen;
            while (now > (seen = Volatile.Read(ref _maxBusy)) && Interlocked.CompareExchange(ref _maxBusy, now, seen) != seen) { }
            try { done.SetResult(work()); }
            catch (Exception e) { done.SetException(e); }
            finally { Interlocked.Decrement(ref _busy); }
        });
        return done.Task;
    }

    /// <summary>Default: one slot per core for single-threaded runs.</summary>
    public static int DefaultSlots(int threadsPerRun = 1) => Math.Max(1, Environment.ProcessorCount / Math.Max(1, threadsPerRun));

    public void Dispose() => _work.CompleteAdding();
}
