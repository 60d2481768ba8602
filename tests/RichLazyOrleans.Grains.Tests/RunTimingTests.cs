using RichLazyOrleans.Engine;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Grains;
using RichLazyOrleans.Results;
using RichLazyOrleans.Silo;

namespace RichLazyOrleans.Grains.Tests;

/// <summary>One silo with one slot: runs dispatched together must queue for it.</summary>
public sealed class OneSlotFixture : IDisposable
{
    public TestCluster Cluster { get; }

    public OneSlotFixture()
    {
        Cluster = new TestClusterBuilder(1).AddSiloBuilderConfigurator<Configurator>().Build();
        Cluster.Deploy();
    }

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo) => silo.AddRichLazy(1).AddInMemoryDurability();
    }

    public SlotPool Pool =>
        Cluster.Silos.OfType<InProcessSiloHandle>().Single().SiloHost.Services.GetRequiredService<SlotPool>();

    public void Dispose() => Cluster.StopAllSilos();
}

public class RunTimingTests(OneSlotFixture fixture) : IClassFixture<OneSlotFixture>
{
    [Fact]
    public async Task Wall_seconds_is_execution_on_the_slot_and_the_wait_for_it_is_queued_seconds()
    {
        const double duration = 0.3;
        string dir = Directory.CreateTempSubdirectory("rl-timing-").FullName;
        // The coordinator keeps twice the cluster's slots in flight, so with one slot every run but
        // the first waits on the silo while the one before it executes.
        const string spec = """
            name: timing
            kind: synthetic
            params: { delta: 0, c0: 0, c1: 0, c2: 0, width: 0.1, duration_ms: 300 }
            axes:
              tau: { from: 0.1, to: 10.0, scale: log }
            grid: { initial: [4] }
            """;
        var g = fixture.Cluster.GrainFactory.GetGrain<ISweepCoordinatorGrain>("timing");
        await g.Start(new SweepRequest(spec, dir));
        for (var deadline = DateTime.UtcNow.AddMinutes(2); !(await g.GetStatus()).Finished; await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, "sweep did not finish");
        Assert.Equal("complete", (await g.GetStatus()).State);
        Assert.Equal(1, fixture.Pool.MaxBusy);

        var rows = (await ResultFiles.ReadAllAsync(dir)).OrderBy(r => r.StartedAt).ToList();
        Assert.Equal(4, rows.Count);
        foreach (var r in rows)
        {
            Assert.Equal(DateTimeKind.Utc, r.StartedAt.Kind);
            // The busy loop runs its full duration; the upper bound is loose (a loaded machine).
            Assert.InRange(r.WallSeconds, duration, 3 * duration);
            Assert.Equal(r.WallSeconds, (r.FinishedAt - r.StartedAt).TotalSeconds, 3);
            Assert.True(r.QueuedSeconds >= 0);
        }
        // One slot executes one run at a time, so execution intervals cannot overlap. Had wall_seconds
        // (finished − started) held a run's wait for the slot, it would overlap the run before it.
        for (int k = 1; k < rows.Count; k++)
            Assert.True(rows[k].StartedAt >= rows[k - 1].FinishedAt.AddMilliseconds(-5),
                $"run {rows[k].RunId} started at {rows[k].StartedAt:O}, "
                + $"before {rows[k - 1].RunId} finished at {rows[k - 1].FinishedAt:O}");
        // And the runs that waited say so.
        Assert.True(rows.Max(r => r.QueuedSeconds) > 0.5 * duration,
            string.Join(", ", rows.Select(r => r.QueuedSeconds)));
    }
}
