using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using RichLazyOrleans.Results;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// Cluster mode on real processes: a redis-server started by the test on a free loopback port, two
/// `richlazy silo --redis` processes, and `richlazy sweep run --redis` as the client. Needs Debian's
/// redis-server (.ci/run installs it); without it the test says SKIPPED and checks nothing.
/// </summary>
public class RedisClusterCliTests
{
    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static Process Start(string file, string[] args, Action<string>? onLine = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) => { if (e.Data is { } l) onLine?.Invoke(l); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is { } l) onLine?.Invoke(l); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    [Fact]
    [Trait("Category", "Cluster")]
    public async Task Two_silos_joined_through_redis_share_a_sweep()
    {
        string? redisServer = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);
        if (redisServer is null)
        {
            Console.Error.WriteLine("SKIPPED: redis-server not installed; the Redis cluster test did not run");
            return;
        }
        int redisPort = FreePort();
        string redis = $"127.0.0.1:{redisPort}";
        string dll = Path.Combine(AppContext.BaseDirectory, "richlazy.dll");
        var processes = new List<Process> { Start(redisServer, ["--port", $"{redisPort}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]) };
        try
        {
            int up = 0;
            for (int i = 0; i < 2; i++)
                processes.Add(Start("dotnet", [dll, "silo", "--redis", redis, "--port", $"{FreePort()}", "--gateway", $"{FreePort()}", "--slots", "2"],
                    line => { if (line.Contains("silo up")) Interlocked.Increment(ref up); }));
            for (var deadline = DateTime.UtcNow.AddSeconds(90); Volatile.Read(ref up) < 2; await Task.Delay(200))
                Assert.True(DateTime.UtcNow < deadline, "the silos did not start");

            string spec = Path.Combine(Directory.CreateTempSubdirectory("rl-redis-").FullName, "s.yaml");
            File.WriteAllText(spec, "name: redis-sweep\nkind: synthetic\nparams: { c0: 0, c1: 0.5, c2: 0, width: 0.05, duration_ms: 250 }\n"
                + "axes:\n  tau: { from: 0.1, to: 10, scale: log }\n  delta: { from: -1, to: 1 }\ngrid: { initial: [6, 6] }\n");
            string dir = Directory.CreateTempSubdirectory("rl-redis-out-").FullName;
            // Silos need a few seconds to join; the client retries until they answer.
            CliProcess.Result run = null!;
            for (var deadline = DateTime.UtcNow.AddSeconds(90); DateTime.UtcNow < deadline; await Task.Delay(1000))
            {
                run = CliProcess.Run("sweep", "run", spec, "--out", dir, "--redis", redis);
                if (run.ExitCode == 0) break;
            }
            Assert.True(run.ExitCode == 0, run.Stderr);
            var rows = await ResultFiles.ReadAllAsync(dir);
            Assert.Equal(36, rows.Count);
            Assert.Equal(36, rows.Select(r => r.RunId).Distinct().Count());
            // Both silos ran runs (two silos x 2 slots; activation-count placement spreads them).
            Assert.Equal(2, rows.Select(r => r.Silo).Distinct().Count());
        }
        finally
        {
            foreach (var p in processes.AsEnumerable().Reverse())
            {
                try { p.Kill(true); p.WaitForExit(10_000); } catch (InvalidOperationException) { }
                p.Dispose();
            }
        }
    }
}
