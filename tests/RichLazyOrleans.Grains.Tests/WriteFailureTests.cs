using RichLazyOrleans.Engine;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Grains;
using RichLazyOrleans.Silo;

namespace RichLazyOrleans.Grains.Tests;

/// <summary>One silo whose sweeps give up on unwritable results quickly (the defaults take about a minute).</summary>
public sealed class QuickGiveUpFixture : IDisposable
{
    public TestCluster Cluster { get; }

    public QuickGiveUpFixture()
    {
        Cluster = new TestClusterBuilder(1).AddSiloBuilderConfigurator<Configurator>().Build();
        Cluster.Deploy();
    }

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.Services.AddSingleton(new SweepOptions(MaxFailedFlushes: 3, FinishWriteTries: 2,
                FirstRetryDelay: TimeSpan.FromMilliseconds(50)));
            silo.AddRichLazy(2).AddInMemoryDurability();
        }
    }

    public void Dispose() => Cluster.StopAllSilos();
}

/// <summary>
/// Issue 12: results that cannot be written (a full disk, a path that vanished) were retried forever: the sweep
/// stayed "finishing" and neither cancel nor signals ended it. Now it fails, with the reason in its status.
/// </summary>
public class WriteFailureTests(QuickGiveUpFixture fixture) : IClassFixture<QuickGiveUpFixture>
{
    [Fact]
    public async Task A_sweep_whose_results_cannot_be_written_fails_with_the_reason_in_bounded_time()
    {
        string dir = Directory.CreateTempSubdirectory("rl-unwritable-").FullName;
        const string spec = """
            name: unwritable
            kind: synthetic
            params: { c0: 0.1, c1: 0.6, c2: -0.3, width: 0.05, duration_ms: 100 }
            axes:
              tau:   { from: 0.1, to: 10.0, scale: log }
              delta: { from: -1.0, to: 1.0 }
            grid:   { initial: [5, 5] }
            refine: { metric: value, threshold: 0.5, max_depth: 3, budget: 200 }
            """;
        var g = fixture.Cluster.GrainFactory.GetGrain<ISweepCoordinatorGrain>("unwritable");
        await g.Start(new SweepRequest(spec, dir));
        string runs = Path.Combine(dir, "runs");
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !Directory.Exists(runs); await Task.Delay(20))
            Assert.True(DateTime.UtcNow < deadline, "no results were written");
        // The results folder becomes a file: every later write fails (as root, permissions would not stop it).
        Directory.Delete(runs, true);
        File.WriteAllText(runs, "not a directory");
        SweepStatus s;
        for (var deadline = DateTime.UtcNow.AddSeconds(60); !(s = await g.GetStatus()).Finished; await Task.Delay(100))
            Assert.True(DateTime.UtcNow < deadline, $"the sweep did not give up: {s}");
        Assert.Equal("failed", s.State);
        Assert.Contains("results could not be written", s.Message);
        Assert.True(s.Done < 200, "it stopped dispatching instead of running the whole budget");
        // The phase is final before the state is saved and the lock released (status may answer in between).
        string lockFile = Path.Combine(dir, ".richlazy.lock");
        for (var deadline = DateTime.UtcNow.AddSeconds(30); File.Exists(lockFile); await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, "a failed sweep gives its directory back");
    }
}
