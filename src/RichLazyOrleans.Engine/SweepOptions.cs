namespace RichLazyOrleans.Engine;

/// <summary>
/// How long a sweep keeps trying to write its results before it fails with the reason (a full disk, a path that
/// vanished): it used to retry forever, stuck "finishing", with cancel and signals unable to end it.
/// </summary>
/// <param name="MaxFailedFlushes">Consecutive failed batch writes (one a second) while running before the sweep
/// stops dispatching and fails.</param>
/// <param name="FinishWriteTries">Tries, with doubling delays from <paramref name="FirstRetryDelay"/> (at most 8 s),
/// to write the last rows when the sweep ends (about 30 s with the defaults).</param>
public sealed record SweepOptions(int MaxFailedFlushes = 60, int FinishWriteTries = 6,
    TimeSpan FirstRetryDelay = default)
{
    public TimeSpan RetryDelay(int attempt)
    {
        var first = FirstRetryDelay == default ? TimeSpan.FromSeconds(1) : FirstRetryDelay;
        return TimeSpan.FromTicks(Math.Min(first.Ticks << Math.Min(attempt, 10), TimeSpan.FromSeconds(8).Ticks));
    }
}
