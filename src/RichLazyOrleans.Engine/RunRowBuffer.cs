using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace RichLazyOrleans.Engine;

/// <summary>
/// The rows of one run attempt between the kind that makes them and the coordinator that writes them. The slot
/// thread adds (<see cref="Add"/>, as the kind streams rows; <see cref="Finish"/>, rows it only returned); the
/// run's grain takes batches of at most <see cref="MaxBatch"/> rows and drops them once the coordinator has them
/// (<see cref="Sent"/>), so each row is converted once, sent once, and a failed send loses nothing.
/// </summary>
public sealed class RunRowBuffer(RowFactory factory, RunClock clock)
{
    public RunClock Clock => clock;
    /// <summary>Most rows in one call to the coordinator: 5 000 rows of a few metrics are a few hundred KB.</summary>
    public const int MaxBatch = 5000;

    private readonly ConcurrentQueue<RunRow> _fresh = new();   // added on the slot thread
    private readonly List<RunRow> _unsent = [];                // the grain's side: taken, not yet acknowledged
    private readonly HashSet<long> _streamed = [];             // steps added while the run went on (slot thread)
    private int _index;

    public RowFactory Factory => factory;
    /// <summary>Rows of this attempt so far (sent or not).</summary>
    public int Count { get; private set; }
    /// <summary>The attempt's last row, for its refinement metric.</summary>
    public RunRow? Last { get; private set; }

    /// <summary>Slot thread: a row the kind streamed, stamped with the time it was produced.</summary>
    public void Add(JsonObject row)
    {
        var r = factory.Make(row, _index++, clock.Now());
        _streamed.Add(r.Step);
        Enqueue(r);
    }

    /// <summary>Slot thread, after the kind returned: its rows that were not streamed, stamped with the end.</summary>
    public void Finish(IReadOnlyList<JsonObject> rows)
    {
        var end = clock.Finished;
        for (int k = 0; k < rows.Count; k++)
        {
            var r = factory.Make(rows[k], k, end);
            if (!_streamed.Contains(r.Step)) Enqueue(r);
        }
        if (rows.Count > 0) Last = factory.Make(rows[^1], rows.Count - 1, end);
    }

    private void Enqueue(RunRow r)
    {
        _fresh.Enqueue(r);
        Count++;
        Last = r;
    }

    /// <summary>The grain's side: the oldest unsent rows (at most <see cref="MaxBatch"/>), or null when none; with
    /// <paramref name="atEnd"/>, stamped with the end of the run (rows reported when a run ends say when it ended).
    /// With <paramref name="all"/>, every unsent row (the last report of an attempt whose sends failed).</summary>
    public RowBatch? Peek(string runId, string silo, bool atEnd = false, bool all = false)
    {
        while (_fresh.TryDequeue(out var r)) _unsent.Add(r);
        if (atEnd) for (int i = 0; i < _unsent.Count; i++) _unsent[i] = _unsent[i].At(clock.Finished);
        if (_unsent.Count == 0) return null;
        var t = clock.Now();
        var rows = all || _unsent.Count <= MaxBatch ? _unsent.ToArray() : _unsent.GetRange(0, MaxBatch).ToArray();
        return new RowBatch(runId, silo, t.StartedAt, t.QueuedSeconds, rows);
    }

    /// <summary>The coordinator has <paramref name="batch"/>: its rows are not sent again.</summary>
    public void Sent(RowBatch batch) => _unsent.RemoveRange(0, batch.Rows.Count);

    /// <summary>Whether rows wait beyond one batch.</summary>
    public bool HasMoreThanOneBatch => _unsent.Count + _fresh.Count > MaxBatch;
}
