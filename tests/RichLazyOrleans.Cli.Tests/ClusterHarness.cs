using RichLazyOrleans.Engine;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// A real cluster on this machine for fault tests: Debian's redis-server on a free loopback port
/// (append-only file in a temporary folder, so a restart keeps its data) and `richlazy silo --redis`
/// processes whose output is captured line by line. Everything is killed on Dispose.
/// </summary>
internal sealed class ClusterHarness : IDisposable
{
    public static string? RedisServer { get; } =
        new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);

    public sealed class Node(string name, int port, int gateway)
    {
        public string Name { get; } = name;
        public int Port { get; } = port;
        public int Gateway { get; } = gateway;
        public Process? Process { get; set; }
        public ConcurrentQueue<string> Lines { get; } = new();
        public bool Up => Lines.Any(l => l.Contains("silo up"));
        /// <summary>Part of the silo's Orleans address as the `silo` column and the logs show it
        /// (S127.0.0.1:PORT:GENERATION).</summary>
        public string Address => $"127.0.0.1:{Port}:";
    }

    private readonly List<Process> _others = [];
    private Process? _redis;
    private readonly string _redisDir = Directory.CreateTempSubdirectory("rl-redis-data-").FullName;
    public int RedisPort { get; } = FreePort();
    public string Redis => $"127.0.0.1:{RedisPort}";
    public List<Node> Silos { get; } = [];
    public string Dll { get; } = Path.Combine(AppContext.BaseDirectory, "richlazy.dll");

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static Process Start(string file, IEnumerable<string> args, Action<string>? onLine = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("RICHLAZY_DEBUG");
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) => { if (e.Data is { } l) onLine?.Invoke(l); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is { } l) onLine?.Invoke(l); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    public void StartRedis()
    {
        _redis = Start(RedisServer!,
        [
            "--port", $"{RedisPort}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
            "--appendfsync", "always", "--dir", _redisDir,
        ]);
        for (var deadline = DateTime.UtcNow.AddSeconds(20); ; Thread.Sleep(100))
        {
            try { using var c = new TcpClient(); c.Connect(IPAddress.Loopback, RedisPort); return; }
            catch (SocketException) { Assert.True(DateTime.UtcNow < deadline, "redis-server did not start"); }
        }
    }

    /// <summary>Stops Redis with SIGTERM (it writes its append-only file) and waits for it to exit.</summary>
    public void StopRedis()
    {
        Signal(_redis!, "TERM");
        Assert.True(_redis!.WaitForExit(20_000), "redis-server did not stop");
        _redis.Dispose();
        _redis = null;
    }

    public Node AddSilo(string name) { var n = new Node(name, FreePort(), FreePort()); Silos.Add(n); return n; }

    /// <summary>Starts (or restarts, on the same ports) a silo process with one slot and information-level
    /// logs.</summary>
    /// <param name="extra">more `richlazy silo` flags (e.g. TLS)</param>
    public void StartSilo(Node n, int slots = 1, params string[] extra)
    {
        n.Lines.Clear();
        n.Process = Start("dotnet", [Dll, "silo", "--redis", Redis, "--port", $"{n.Port}", "--gateway", $"{n.Gateway}",
                "--slots", $"{slots}", "--log-level", "Information", "--shutdown-seconds", "30",
                "--results-root", Path.GetTempPath(), "--data-root", Path.GetTempPath(), .. extra],
            line => n.Lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {line}"));
    }

    public static void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        for (var deadline = DateTime.UtcNow + timeout; !condition(); Thread.Sleep(100))
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
    }

    /// <summary>Adds and starts <paramref name="count"/> silos (silo1, silo2, ...) and waits until they are
    /// up.</summary>
    public List<Node> StartSilos(int count, int slots = 1, params string[] extra)
    {
        var nodes = Enumerable.Range(1, count).Select(i => AddSilo($"silo{i}")).ToList();
        foreach (var n in nodes) StartSilo(n, slots, extra);
        WaitUp(nodes);
        return nodes;
    }

    public void WaitUp(IEnumerable<Node> nodes) =>
        WaitUntil(() => nodes.All(n => n.Up), TimeSpan.FromSeconds(120), "the silos to start\n" + Logs());

    public static void Kill(Node n)
    {
        n.Process!.Kill();   // SIGKILL: no shutdown, no checkpoint, no goodbye to the cluster
        n.Process.WaitForExit(10_000);
        n.Process.Dispose();
        n.Process = null;
    }

    public static void Signal(Process p, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", $"{p.Id}"])!;
        kill.WaitForExit();
    }

    /// <summary>A client process (`richlazy ARGS`) left running in the background, its output collected.</summary>
    public (Process Process, ConcurrentQueue<string> Lines) Client(params string[] args)
    {
        var lines = new ConcurrentQueue<string>();
        var p = Start("dotnet", new[] { Dll }.Concat(args), l => lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {l}"));
        _others.Add(p);
        return (p, lines);
    }

    /// <summary>Runs `richlazy ARGS` against the cluster, retrying while the silos are still joining.</summary>
    public CliProcess.Result RunUntilOk(TimeSpan timeout, params string[] args)
    {
        CliProcess.Result r = null!;
        for (var deadline = DateTime.UtcNow + timeout; DateTime.UtcNow < deadline; Thread.Sleep(1000))
        {
            r = CliProcess.Run(args);
            if (r.ExitCode == 0) break;
        }
        return r;
    }

    /// <summary>Everything the silos printed (for failure messages).</summary>
    public string Logs() =>
        string.Join("\n", Silos.SelectMany(s => s.Lines.Select(l => $"[{s.Name}] {l}")).TakeLast(200));

    public void Dispose()
    {
        foreach (var p in _others.Concat(Silos.Select(s => s.Process)).Append(_redis).OfType<Process>())
        {
            try { if (!p.HasExited) { p.Kill(true); p.WaitForExit(10_000); } } catch (InvalidOperationException) { }
            p.Dispose();
        }
        try { Directory.Delete(_redisDir, true); } catch (IOException) { }
    }
}
