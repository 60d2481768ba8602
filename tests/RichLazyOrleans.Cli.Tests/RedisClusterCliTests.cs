using RichLazyOrleans.Engine;
using RichLazyOrleans.Results;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// Cluster mode on real processes: a redis-server started by the test on a free loopback port, two
/// `richlazy silo --redis` processes, and `richlazy sweep run --redis` as the client. Needs Debian's
/// redis-server (.ci/run installs it); without it the test is reported skipped.
/// </summary>
public class RedisClusterCliTests
{
    [SkippableFact]
    [Trait("Category", "Cluster")]
    public async Task Two_silos_joined_through_redis_share_a_sweep()
    {
        Skip.If(ClusterHarness.RedisServer is null, "redis-server not installed; the Redis cluster test did not run");
        using var c = new ClusterHarness();
        c.StartRedis();
        var silos = c.StartSilos(2, slots: 2);

        string spec = Path.Combine(Directory.CreateTempSubdirectory("rl-redis-").FullName, "s.yaml");
        File.WriteAllText(spec, "name: redis-sweep\nkind: synthetic\n"
            + "params: { c0: 0, c1: 0.5, c2: 0, width: 0.05, duration_ms: 250 }\n"
            + "axes:\n  tau: { from: 0.1, to: 10, scale: log }\n  delta: { from: -1, to: 1 }\n"
            + "grid: { initial: [6, 6] }\n");
        string dir = Directory.CreateTempSubdirectory("rl-redis-out-").FullName;
        // Silos need a few seconds to join; the client retries until they answer.
        var run = c.RunUntilOk(TimeSpan.FromSeconds(90), "sweep", "run", spec, "--out", dir, "--redis", c.Redis);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var rows = await ResultFiles.ReadAllAsync(dir);
        Assert.Equal(36, rows.Count);
        Assert.Equal(36, rows.Select(r => r.RunId).Distinct().Count());
        // Both silos ran runs (two silos x 2 slots; activation-count placement spreads them).
        Assert.Equal(2, rows.Select(r => r.Silo).Distinct().Count());
        Assert.All(silos, s => Assert.Contains(rows, r => r.Silo.Contains(s.Address)));

        // Ctrl+C on `sweep run --redis` stops the sweep's running runs too (it used to wait for them to finish:
        // hours for training runs): exit 130 within seconds of one-minute runs, the sweep cancelled.
        File.WriteAllText(spec, "name: redis-stop\nkind: synthetic\nparams: { delta: 0, c0: 0, c1: 0.5, c2: 0, "
            + "width: 0.05, duration_ms: 60000 }\naxes:\n  tau: { from: 0.1, to: 10, scale: log }\n"
            + "grid: { initial: [4] }\n");
        var (client, lines) = c.Client("sweep", "run", spec, "--out", Path.Combine(dir, "stop"), "--redis", c.Redis);
        ClusterHarness.WaitUntil(
            () => lines.Any(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"[1-9] running")),
            TimeSpan.FromSeconds(60), $"runs of redis-stop to start: {string.Join("\n", lines)}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ClusterHarness.Signal(client, "INT");
        Assert.True(client.WaitForExit(30_000), "the client did not exit within 30 s of Ctrl+C");
        Assert.Equal(130, client.ExitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"stopping took {clock.Elapsed}");
        var status = c.RunUntilOk(TimeSpan.FromSeconds(30), "sweep", "status", "redis-stop", "--redis", c.Redis);
        Assert.Contains("[cancelled]", status.Stdout);
    }
}
