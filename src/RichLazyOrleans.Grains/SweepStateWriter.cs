using RichLazyOrleans.Engine;
using Microsoft.Extensions.Logging;

namespace RichLazyOrleans.Grains;

/// <summary>
/// Writes a sweep's grain state, one write (or flush-then-write) at a time on a reentrant grain. The state
/// grows with the sweep and is written whole, so while rows stream it is written at most every
/// <see cref="SaveInterval"/> (a full write of thousands of runs costs milliseconds); start, cancel, finish and
/// deactivation force a write. A write refused because another activation saved after this one
/// (Orleans' InconsistentStateException) means that activation owns the sweep: this one stops writing for good.
/// Any other failure (storage restarting) leaves the state dirty for the next try.
/// </summary>
public sealed class SweepStateWriter(Func<Task> write, Action beforeWrite, Action superseded, ILogger logger,
    string sweepId, TimeProvider? time = null)
{
    public static readonly TimeSpan SaveInterval = TimeSpan.FromSeconds(5);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly SemaphoreSlim _io = new(1, 1);
    private long? _lastSave;

    /// <summary>Something changed since the last successful write.</summary>
    public bool Dirty { get; private set; }
    /// <summary>Another activation owns the sweep: nothing more is written (files or state).</summary>
    public bool Superseded { get; private set; }

    public void MarkDirty() => Dirty = true;

    /// <summary>Runs <paramref name="work"/> (a flush), then writes the state if dirty and due, or if forced.</summary>
    public async Task RunAsync(Func<Task>? work, bool force)
    {
        await _io.WaitAsync();
        try
        {
            if (Superseded) return;
            if (work is not null) await work();
            if (force) Dirty = true;
            bool due = force || _lastSave is not { } at || _time.GetElapsedTime(at) >= SaveInterval;
            if (Dirty && due && !Superseded) await WriteAsync();
        }
        finally { _io.Release(); }
    }

    private async Task WriteAsync()
    {
        beforeWrite();
        Dirty = false;   // cleared before the write: a change made while it is under way marks it dirty again
        try
        {
            await write();
            _lastSave = _time.GetTimestamp();
        }
        catch (Orleans.Storage.InconsistentStateException e)
        {
            logger.LogError("sweep {Sweep}: its state was changed by another activation ({Error}); deactivating",
                sweepId, RunDispatcher.FirstLine(e));
            Superseded = true;
            superseded();
        }
        catch (Exception e)
        {
            Dirty = true;
            logger.LogWarning("sweep {Sweep}: could not save its state ({Error}); will retry",
                sweepId, RunDispatcher.FirstLine(e));
        }
    }
}
