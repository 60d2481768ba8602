using RichLazyOrleans.Engine;
using Microsoft.Extensions.Logging;

namespace RichLazyOrleans.Engine;

/// <summary>
/// The runs a sweep has in flight, and the watchdog over them. The window is twice the cluster's slots: the
/// extra runs wait on their silo's slot, so a slot that frees up starts the next run at once instead of after
/// a round trip through the coordinator. The slot count is asked at most once a second, not on every
/// finished run. A run in flight is asked again every <see cref="RedispatchAfter"/>: a no-op while its
/// activation lives, a fresh activation on a surviving silo (resuming from its checkpoint) once its silo has
/// died or stopped. Plain class (no Orleans): the coordinator hands it how to ask for slots and start a run,
/// and calls it on its own scheduler (so nothing here needs a lock).
/// </summary>
public sealed class RunDispatcher(
    Func<Task<int>> totalSlots, Func<RunRequest, Task<int>> start, Action<RunRequest, int> restarted,
    ILogger logger, string sweepId, TimeProvider? time = null)
{
    /// <summary>A run in flight is asked to make sure it runs this often.</summary>
    public static readonly TimeSpan RedispatchAfter = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SlotsCheckEvery = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Dictionary<string, Flight> _inFlight = [];
    private long? _slotsCheckedAt;

    /// <summary>A run in flight and when it was last asked to run (null: ask at the next tick).</summary>
    private sealed class Flight(RunRequest run, long? askedAt)
    {
        public RunRequest Run { get; } = run;
        public long? AskedAt { get; set; } = askedAt;
    }

    /// <summary>The cluster's slots as last heard (0 until a silo has registered).</summary>
    public int Slots { get; private set; }
    public int InFlight => _inFlight.Count;
    /// <summary>How many more runs may be dispatched now (no silo registered yet: still make progress).</summary>
    public int Room => Math.Max(0, 2 * Math.Max(1, Slots) - _inFlight.Count);
    public bool IsInFlight(string runId) => _inFlight.ContainsKey(runId);
    public IEnumerable<RunRequest> Runs => _inFlight.Values.Select(f => f.Run);

    /// <summary>Asks the slot registry, at most once a second.</summary>
    public async Task RefreshSlotsAsync()
    {
        if (_slotsCheckedAt is { } at && _time.GetElapsedTime(at) < SlotsCheckEvery) return;
        _slotsCheckedAt = _time.GetTimestamp();
        try { Slots = await totalSlots(); }
        catch (Exception e)
        {
            logger.LogWarning("sweep {Sweep}: slot registry unreachable ({Error})", sweepId, FirstLine(e));
        }
    }

    /// <summary>Puts the runs in flight before any await (no room counted twice); asks each to run.</summary>
    public Task DispatchAsync(IReadOnlyList<RunRequest> runs)
    {
        long now = _time.GetTimestamp();
        var asked = new List<RunRequest>(runs.Count);
        foreach (var run in runs)
        {
            if (!_inFlight.TryAdd(run.RunId, new Flight(run, now))) continue;
            Telemetry.RunsInFlight.Add(1);
            asked.Add(run);
        }
        return Task.WhenAll(asked.Select(AskAsync));
    }

    /// <summary>A run reported back: its place is free. False when it was not in flight (a duplicate report).</summary>
    public bool Finished(string runId)
    {
        if (!_inFlight.Remove(runId)) return false;
        Telemetry.RunsInFlight.Add(-1);
        return true;
    }

    /// <summary>Its silo stopped it (after a checkpoint): asked again at the next tick, it starts elsewhere.</summary>
    public bool Interrupted(string runId)
    {
        if (!_inFlight.TryGetValue(runId, out var f)) return false;
        f.AskedAt = null;
        return true;
    }

    /// <summary>Every run in flight is asked again at the next tick (a sweep woken by hand).</summary>
    public void AllDue()
    {
        foreach (var f in _inFlight.Values) f.AskedAt = null;
    }

    /// <summary>The watchdog: asks every run again not asked for RedispatchAfter, or marked due.</summary>
    public Task TickAsync()
    {
        long now = _time.GetTimestamp();
        var due = _inFlight.Values
            .Where(f => f.AskedAt is not { } at || _time.GetElapsedTime(at) >= RedispatchAfter).ToList();
        foreach (var f in due) f.AskedAt = now;
        return Task.WhenAll(due.Select(f => AskAsync(f.Run)));
    }

    /// <summary>The sweep ended: nothing is in flight any more.</summary>
    public void Clear()
    {
        Telemetry.RunsInFlight.Add(-_inFlight.Count);
        _inFlight.Clear();
    }

    /// <summary>Asks a run to make sure it runs; a failure is left to the watchdog to retry.</summary>
    private async Task AskAsync(RunRequest run)
    {
        try
        {
            int attempt = await start(run);
            // Refused (its silo is stopping): ask again at the next tick, which may place it elsewhere.
            if (attempt < 0 && _inFlight.TryGetValue(run.RunId, out var f)) f.AskedAt = null;
            if (attempt > 1)
            {
                restarted(run, attempt);
                logger.LogWarning("sweep {Sweep}: run {RunId} started again (attempt {Attempt}): its silo died/stopped",
                    sweepId, run.RunId, attempt);
            }
        }
        catch (Exception e)
        {
            logger.LogWarning("sweep {Sweep}: could not start run {RunId} ({Error}); will retry",
                sweepId, run.RunId, FirstLine(e));
        }
    }

    public static string FirstLine(Exception e) => e.Message.Split('\n')[0];
}
