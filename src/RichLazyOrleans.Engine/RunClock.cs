using System.Diagnostics;

namespace RichLazyOrleans.Engine;

/// <summary>
/// A run attempt's times. Made when the run is accepted; <see cref="Begin"/> and <see cref="End"/> are called
/// on the slot thread around the execution. Begin happens before the run produces any row, and rows are
/// stamped on the slot thread, so every row sees the start.
/// </summary>
public sealed class RunClock
{
    private readonly long _accepted = Stopwatch.GetTimestamp();
    private long _began;
    private DateTime _startedAt;
    private double _queuedSeconds;
    private RunTimes _finished;
    private volatile bool _hasBegun, _hasEnded;

    public void Begin()
    {
        _began = Stopwatch.GetTimestamp();
        _startedAt = DateTime.UtcNow;
        _queuedSeconds = Stopwatch.GetElapsedTime(_accepted, _began).TotalSeconds;
        _hasBegun = true;
    }

    /// <summary>The times of a row produced now. Finished is start + monotonic elapsed time, so
    /// finished_at − started_at equals wall_seconds even if the system clock is stepped meanwhile.</summary>
    public RunTimes Now()
    {
        if (!_hasBegun) return default;
        var elapsed = Stopwatch.GetElapsedTime(_began);
        return new RunTimes(_startedAt, _startedAt + elapsed, _queuedSeconds, elapsed.TotalSeconds);
    }

    /// <summary>The end of the execution; the first call counts (rows returned after it carry its times).</summary>
    public void End()
    {
        if (_hasEnded) return;
        _finished = Now();
        _hasEnded = true;
    }

    /// <summary>The times at the end of the execution (all zero for a run that never got a slot).</summary>
    public RunTimes Finished => _hasEnded ? _finished : default;
}
