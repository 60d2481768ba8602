using RichLazyOrleans.Engine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Grains;

namespace RichLazyOrleans.Silo;

internal sealed record DrainOptions(TimeSpan Timeout);

/// <summary>
/// The silo's slots over its lifetime: a heartbeat to the slot registry while it runs, and on
/// shutdown (SIGTERM, pod eviction) a drain before Orleans stops: the slots leave the registry,
/// running runs save a checkpoint and report "interrupted" so their coordinator starts them on
/// another silo, all within <see cref="DrainOptions.Timeout"/>. StoppingAsync runs before any
/// hosted service's StopAsync, so the silo is still a full cluster member while this happens.
/// </summary>
internal sealed class SlotLifecycle(SlotPool slots, IGrainFactory grains, ILocalSiloDetails silo, DrainOptions drain,
    ILogger<SlotLifecycle> logger) : BackgroundService, IHostedLifecycleService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SlotRegistryGrain.Heartbeat);
        try
        {
            do
            {
                if (slots.IsStopping) break;
                try { await Registry.Register(Address, slots.Slots, slots.Gpus.Count).WaitAsync(stoppingToken); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogDebug("slot heartbeat failed: {Error}", e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) { }
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        int running = slots.Executions;
        slots.BeginStopping();   // first, so no heartbeat re-registers the slots after the line below
        try { await Registry.Unregister(Address).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken); }
        catch (Exception e)
        {
            logger.LogWarning("could not unregister this silo's slots: {Error}", e.Message.Split('\n')[0]);
        }
        if (running > 0)
            logger.LogWarning("shutting down: {Runs} run(s) here save a checkpoint and move to other silos", running);
        bool drained = await slots.DrainAsync(drain.Timeout);
        if (running > 0)
            logger.LogWarning(drained ? "shutting down: every run handed over" : "shutting down: runs still busy "
                + "after {Timeout} s; they will be restarted elsewhere from their last checkpoint",
                drain.Timeout.TotalSeconds);
    }

    private ISlotRegistryGrain Registry => grains.GetGrain<ISlotRegistryGrain>(0);
    private string Address => silo.SiloAddress.ToString();

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
