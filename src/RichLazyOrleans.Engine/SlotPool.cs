using System.Collections.Concurrent;

namespace RichLazyOrleans.Engine;

/// <summary>
/// This silo's device slots: K long-lived threads, so at most K runs execute here at once and no
/// run ever executes on the Orleans scheduler. Silo-local by design (no cluster lock); the
/// coordinator keeps a bounded number of runs in flight for the cluster's registered slots, and
/// run grains are spread by activation count. Reusing the threads (instead of a new thread per
/// run) matters for short runs: it is part of what keeps orchestration overhead small.
///
/// On shutdown (<see cref="DrainAsync"/>) the pool cancels the runs' token, so resumable runs save
/// a checkpoint and stop, and waits until every run has handed its slot back and reported.
/// </summary>
public sealed class SlotPool : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();      // CPU slots take runs from here
    private readonly BlockingCollection<Action> _gpuWork = new();   // GPU slots: one run per GPU at a time
    private readonly Thread[] _threads;
    private readonly CancellationTokenSource _stopping = new();
    private int _busy, _maxBusy, _executions;

    /// <summary>All slots: one per GPU, then the CPU slots.</summary>
    public int Slots { get; }
    /// <summary>The GPU of each GPU slot (device ordinals as the driver numbers them: "0", "1", …).</summary>
    public IReadOnlyList<string> Gpus { get; }
    public int Busy => Volatile.Read(ref _busy);
    /// <summary>The most runs ever executing here at the same time (for tests and metrics).</summary>
    public int MaxBusy => Volatile.Read(ref _maxBusy);
    /// <summary>Cancelled when the silo starts shutting down: runs checkpoint and stop.</summary>
    public CancellationToken Stopping => _stopping.Token;
    public bool IsStopping => _stopping.IsCancellationRequested;

    /// <param name="slots">CPU slots.</param>
    /// <param name="gpus">One more slot per GPU: runs that ask for a GPU take these, one run per GPU.</param>
    public SlotPool(int slots, IReadOnlyList<string>? gpus = null)
    {
        Gpus = gpus ?? [];
        ArgumentOutOfRangeException.ThrowIfLessThan(slots + Gpus.Count, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(slots);
        Slots = slots + Gpus.Count;
        _threads = Enumerable.Range(0, Slots)
            .Select(i => new Thread(() => Loop(i)) { IsBackground = true, Name = $"richlazy-slot-{i}" }).ToArray();
        foreach (var t in _threads) t.Start();
        Telemetry.Meter.CreateObservableGauge("richlazy.slots.busy", () => Busy,
            description: "runs executing on this silo's slots");
        Telemetry.Meter.CreateObservableGauge("richlazy.slots.utilisation", () => Busy / (double)Slots,
            description: "busy slots / slots on this silo");
    }

    [ThreadStatic] private static int t_slot;
    [ThreadStatic] private static string? t_gpu;

    /// <summary>The slot a run executes on, read from its slot thread (0 elsewhere).</summary>
    public static int CurrentSlot => t_slot;
    /// <summary>The GPU of the slot a run executes on (null on a CPU slot), read from its slot thread.</summary>
    public static string? CurrentGpu => t_gpu;

    private void Loop(int slot)
    {
        t_slot = slot;
        t_gpu = slot < Gpus.Count ? Gpus[slot] : null;
        // Without CPU slots, GPU slots take every run; otherwise each slot its own kind.
        var queue = t_gpu is not null || Slots == Gpus.Count ? _gpuWork : _work;
        foreach (var work in queue.GetConsumingEnumerable()) work();
    }

    /// <summary>Runs <paramref name="work"/> on a slot thread when one is free (a GPU slot when
    /// <paramref name="gpu"/>); it gets the pool's stopping token.</summary>
    public Task<T> RunAsync<T>(Func<CancellationToken, T> work, bool gpu = false)
    {
        if (gpu && Gpus.Count == 0) throw new InvalidOperationException("this silo has no GPU slot");
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        (gpu || Slots == Gpus.Count ? _gpuWork : _work).Add(() =>
        {
            if (IsStopping) { done.SetCanceled(Stopping); return; }   // queued behind the shutdown: never started
            int now = Interlocked.Increment(ref _busy);
            int seen;
            while (now > (seen = Volatile.Read(ref _maxBusy))
                && Interlocked.CompareExchange(ref _maxBusy, now, seen) != seen) { }
            try { done.SetResult(work(Stopping)); }
            catch (OperationCanceledException e) { done.SetCanceled(e.CancellationToken); }
            catch (Exception e) { done.SetException(e); }
            finally { Interlocked.Decrement(ref _busy); }
        });
        return done.Task;
    }

    /// <summary>Marks a run grain's execution (waiting, running, reporting) so a shutdown can wait for it.</summary>
    public IDisposable Execution()
    {
        Interlocked.Increment(ref _executions);
        return new Exit(this);
    }

    private sealed class Exit(SlotPool pool) : IDisposable
    {
        private int _done;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) Interlocked.Decrement(ref pool._executions);
        }
    }

    public int Executions => Volatile.Read(ref _executions);

    /// <summary>From now on no run starts here, and running ones are told to checkpoint and stop.</summary>
    public void BeginStopping() => _stopping.Cancel();

    /// <summary>
    /// Stops the runs (they checkpoint) and waits until every execution has reported, or the timeout.
    /// </summary>
    public async Task<bool> DrainAsync(TimeSpan timeout)
    {
        BeginStopping();
        var deadline = DateTime.UtcNow + timeout;
        while (Executions > 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        return Executions == 0;
    }

    /// <summary>Default: one slot per core for single-threaded runs.</summary>
    public static int DefaultSlots(int threadsPerRun = 1) =>
        Math.Max(1, Environment.ProcessorCount / Math.Max(1, threadsPerRun));

    public void Dispose()
    {
        _stopping.Cancel();
        _work.CompleteAdding();
        _gpuWork.CompleteAdding();
    }
}
