using Microsoft.Extensions.Logging;
using RichLazyOrleans.Engine;
using RichLazyOrleans.GrainInterfaces;

namespace RichLazyOrleans.Grains;

/// <summary>What a run tells its coordinator: its rows, each once, in bounded batches, and its result.</summary>
public sealed partial class RunGrain
{
    private Task _sending = Task.CompletedTask;   // one send of rows at a time: the timer's and the end's

    /// <summary>The timer's tick: rows produced since the last send, in batches, unless a send is under way.</summary>
    private Task SendRowsAsync() => _sending.IsCompleted ? _sending = SendBatchesAsync(keepLast: false) : _sending;

    /// <summary>
    /// Sends unsent rows as progress, a bounded batch per awaited call; a batch leaves the buffer only once the
    /// coordinator has it, so a failed call loses nothing (the next tick, or the result, carries the rows). With
    /// <paramref name="keepLast"/> the last batch stays, for the result.
    /// </summary>
    private async Task SendBatchesAsync(bool keepLast, bool atEnd = false)
    {
        var rows = _run!.Rows;
        try
        {
            while ((!keepLast || rows.HasMoreThanOneBatch) && rows.Peek(_request!.RunId, RuntimeIdentity, atEnd)
                is { } batch)
            {
                await Coordinator.RunProgress(new(batch));
                rows.Sent(batch);
            }
        }
        catch (Exception e)
        {
            logger.LogDebug("run {RunId}: rows not sent yet ({Error}); they go with the next call", _request!.RunId,
                e.Message.Split('\n')[0]);
        }
    }

    /// <summary>The rows left at the end of an attempt: after the send under way, all but the last batch as
    /// progress; the rest (one batch, or everything when sending failed) for the final report.</summary>
    private async Task<RowBatch> DrainRowsAsync(RunRequest r, bool atEnd)
    {
        _progressTimer?.Dispose();
        await _sending;
        await SendBatchesAsync(keepLast: true, atEnd);
        return _run!.Rows.Peek(r.RunId, RuntimeIdentity, atEnd, all: true) ?? RowBatch.Empty(r.RunId);
    }

    /// <summary>
    /// Reports the result, retrying while the coordinator is unreachable (its silo died and it is
    /// being restored elsewhere). The coordinator accepts each run once, so a retry cannot duplicate.
    /// </summary>
    private async Task ReportAsync(RunRequest r, RunResult result)
    {
        var delay = TimeSpan.FromSeconds(1);
        for (var deadline = DateTime.UtcNow.AddMinutes(10); ;
             delay = TimeSpan.FromSeconds(Math.Min(15, delay.TotalSeconds * 2)))
        {
            try { await Coordinator.RunFinished(result); return; }
            catch (Exception e) when (DateTime.UtcNow < deadline)
            {
                logger.LogWarning("run {RunId}: could not report to its coordinator ({Error}); retrying in {Delay} s",
                    r.RunId, e.Message.Split('\n')[0], delay.TotalSeconds);
                await Task.Delay(delay);
            }
            catch (Exception e)
            {
                // The coordinator re-dispatches runs it has not heard of, so this run will be asked for again.
                logger.LogError(e, "could not report run {RunId} to its coordinator", r.RunId);
                return;
            }
        }
    }
}
