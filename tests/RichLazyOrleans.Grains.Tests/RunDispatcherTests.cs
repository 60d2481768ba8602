using RichLazyOrleans.Engine;
using Microsoft.Extensions.Logging.Abstractions;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Grains;

namespace RichLazyOrleans.Grains.Tests;

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualTime : TimeProvider
{
    private long _ticks;
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public override long GetTimestamp() => _ticks;
    public override DateTimeOffset GetUtcNow() =>
        new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero).AddTicks(_ticks);
    public void Advance(TimeSpan by) => _ticks += by.Ticks;
}

public class RunDispatcherTests
{
    private readonly ManualTime _time = new();
    private readonly List<string> _asked = [];
    private readonly List<(string Run, int Attempt)> _restarted = [];
    private readonly Dictionary<string, int> _answers = [];   // run id -> what Start returns (default 1)
    private int _slots = 2, _slotQuestions;
    private bool _startThrows;

    private RunDispatcher Dispatcher() => new(
        () => { _slotQuestions++; return Task.FromResult(_slots); },
        run =>
        {
            _asked.Add(run.RunId);
            if (_startThrows) throw new TimeoutException("silo unreachable");
            return Task.FromResult(_answers.GetValueOrDefault(run.RunId, 1));
        },
        (run, attempt) => _restarted.Add((run.RunId, attempt)), NullLogger.Instance, "s", _time);

    private static RunRequest Run(string id) => new("s", id, "synthetic", "{}", 0, 0, 0, 0, "/tmp", null);
    private static List<RunRequest> Runs(params string[] ids) => ids.Select(Run).ToList();

    [Fact]
    public async Task The_window_is_twice_the_cluster_slots_and_a_finished_run_frees_its_place()
    {
        var d = Dispatcher();
        Assert.Equal(2, d.Room);   // no silo heard of yet: still make progress
        await d.RefreshSlotsAsync();
        Assert.Equal(4, d.Room);
        await d.DispatchAsync(Runs("a", "b", "c"));
        Assert.Equal(["a", "b", "c"], _asked);
        Assert.Equal(1, d.Room);
        await d.DispatchAsync(Runs("a"));   // already in flight: not asked twice
        Assert.Equal(3, d.InFlight);
        Assert.True(d.Finished("b"));
        Assert.False(d.Finished("b"));     // a duplicate report
        Assert.Equal(2, d.Room);
        Assert.False(d.IsInFlight("b"));
    }

    [Fact]
    public async Task Slots_are_asked_at_most_once_a_second()
    {
        var d = Dispatcher();
        await d.RefreshSlotsAsync();
        _slots = 5;
        await d.RefreshSlotsAsync();
        _time.Advance(TimeSpan.FromMilliseconds(900));
        await d.RefreshSlotsAsync();
        Assert.Equal(1, _slotQuestions);
        Assert.Equal(2, d.Slots);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        await d.RefreshSlotsAsync();
        Assert.Equal(2, _slotQuestions);
        Assert.Equal(10, d.Room);
    }

    [Fact]
    public async Task The_watchdog_asks_runs_in_flight_again_every_ten_seconds()
    {
        var d = Dispatcher();
        await d.DispatchAsync(Runs("a", "b"));
        _time.Advance(TimeSpan.FromSeconds(5));
        await d.DispatchAsync(Runs("c"));
        _time.Advance(TimeSpan.FromSeconds(4.9));
        await d.TickAsync();
        Assert.Equal(["a", "b", "c"], _asked);   // nobody due yet
        _time.Advance(TimeSpan.FromSeconds(0.1));
        await d.TickAsync();
        Assert.Equal(["a", "b", "c", "a", "b"], _asked);
        _time.Advance(TimeSpan.FromSeconds(5));
        await d.TickAsync();
        Assert.Equal(["a", "b", "c", "a", "b", "c"], _asked);
        d.Finished("a");
        _time.Advance(TimeSpan.FromSeconds(10));
        await d.TickAsync();
        Assert.Equal(["a", "b", "c", "a", "b", "c", "b", "c"], _asked);   // a finished run is not asked again
    }

    [Fact]
    public async Task A_refused_or_interrupted_run_is_asked_again_at_the_next_tick()
    {
        var d = Dispatcher();
        _answers["a"] = -1;   // its silo is stopping
        await d.DispatchAsync(Runs("a", "b", "c"));
        _answers["a"] = 1;
        Assert.True(d.Interrupted("c"));
        Assert.False(d.Interrupted("zzz"));
        await d.TickAsync();
        Assert.Equal(["a", "b", "c", "a", "c"], _asked);
        await d.TickAsync();   // asked just now: not due again
        Assert.Equal(5, _asked.Count);
        d.AllDue();            // woken by hand
        await d.TickAsync();
        Assert.Equal(8, _asked.Count);
    }

    [Fact]
    public async Task A_restarted_run_is_counted_and_a_failed_start_is_left_to_the_watchdog()
    {
        var d = Dispatcher();
        _answers["a"] = 3;   // its silo died twice: the run grain started it a third time
        _answers["b"] = 0;   // already executing
        await d.DispatchAsync(Runs("a", "b"));
        Assert.Equal([("a", 3)], _restarted);

        _startThrows = true;
        await d.DispatchAsync(Runs("c"));   // does not throw; stays in flight
        Assert.True(d.IsInFlight("c"));
        _startThrows = false;
        _time.Advance(RunDispatcher.RedispatchAfter);
        await d.TickAsync();
        Assert.Equal(2, _asked.Count(x => x == "c"));
    }

    [Fact]
    public async Task A_run_that_reports_before_its_start_returns_is_not_put_back()
    {
        RunDispatcher? d = null;
        d = new RunDispatcher(() => Task.FromResult(1), run =>
        {
            d!.Finished(run.RunId);           // a 0 ms run reports while Start is still answering
            return Task.FromResult(-1);       // and that answer says "refused"
        }, (_, _) => { }, NullLogger.Instance, "s", _time);
        await d.DispatchAsync(Runs("a"));
        Assert.Equal(0, d.InFlight);
        Assert.Equal(2, d.Room);
    }
}
