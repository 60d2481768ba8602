using RichLazyOrleans.Engine;
using Microsoft.Extensions.Logging;

namespace RichLazyOrleans.Grains;

/// <summary>
/// The reminder that revives a sweep whose silo died, or whose silos all stopped: its only job is to activate
/// the coordinator (which restores itself on activation). Registering or dropping it may fail while storage
/// is unreachable; the coordinator tries again on its watchdog's tick, and a finished sweep drops it when it fires.
/// </summary>
public sealed class SweepReminder(Grain grain, ILogger logger, string sweepId)
{
    public const string Name = "sweep-alive";
    /// <summary>Orleans' minimum period is set to 5 s by our silos.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(30);

    public bool IsSet { get; private set; }

    public async Task EnsureAsync()
    {
        try
        {
            await grain.RegisterOrUpdateReminder(Name, Period, Period);
            IsSet = true;
        }
        catch (Exception e)
        {
            logger.LogWarning("sweep {Sweep}: could not register its reminder ({Error}); will retry",
                sweepId, RunDispatcher.FirstLine(e));
        }
    }

    public async Task DropAsync()
    {
        try { if (await grain.GetReminder(Name) is { } r) await grain.UnregisterReminder(r); }
        catch (Exception e)
        {
            logger.LogWarning("sweep {Sweep}: could not drop its reminder ({Error}); it is dropped when it fires",
                sweepId, RunDispatcher.FirstLine(e));
        }
    }
}
