using RichLazyOrleans.Engine;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Storage;
using RichLazyOrleans.Grains;

namespace RichLazyOrleans.Grains.Tests;

public class SweepStateWriterTests
{
    private readonly ManualTime _time = new();
    private int _writes, _prepared, _superseded;
    private Exception? _fail;

    private SweepStateWriter Writer() => new(() =>
    {
        if (_fail is { } e) throw e;
        _writes++;
        return Task.CompletedTask;
    }, () => _prepared++, () => _superseded++, NullLogger.Instance, "s", _time);

    [Fact]
    public async Task While_rows_stream_the_state_is_written_at_most_every_save_interval_and_forced_writes_go_at_once()
    {
        var w = Writer();
        await w.RunAsync(null, force: false);
        Assert.Equal(0, _writes);            // nothing changed
        w.MarkDirty();
        await w.RunAsync(null, force: false);
        Assert.Equal(1, _writes);            // never written: due
        w.MarkDirty();
        _time.Advance(SweepStateWriter.SaveInterval - TimeSpan.FromMilliseconds(1));
        await w.RunAsync(null, force: false);
        Assert.Equal(1, _writes);
        Assert.True(w.Dirty);
        await w.RunAsync(null, force: true);  // start, cancel, finish, deactivation
        Assert.Equal(2, _writes);
        w.MarkDirty();
        _time.Advance(SweepStateWriter.SaveInterval);
        int worked = 0;
        await w.RunAsync(() => { worked++; return Task.CompletedTask; }, force: false);
        Assert.Equal((1, 3, 3), (worked, _writes, _prepared));
        Assert.False(w.Dirty);
    }

    [Fact]
    public async Task A_failed_write_stays_dirty_and_a_superseded_activation_stops_writing()
    {
        var w = Writer();
        _fail = new TimeoutException("redis restarting");
        await w.RunAsync(null, force: true);
        Assert.True(w.Dirty);
        _fail = null;
        await w.RunAsync(null, force: false);
        Assert.Equal(1, _writes);

        _fail = new InconsistentStateException("etag mismatch");
        await w.RunAsync(null, force: true);
        Assert.True(w.Superseded);
        Assert.Equal(1, _superseded);
        _fail = null;
        int worked = 0;
        await w.RunAsync(() => { worked++; return Task.CompletedTask; }, force: true);
        Assert.Equal((0, 1), (worked, _writes));   // neither files nor state are written any more
    }
}
