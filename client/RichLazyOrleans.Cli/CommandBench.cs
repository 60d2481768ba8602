using RichLazyOrleans.Engine;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RichLazyOrleans.Results;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Cli;

/// <summary>
/// `richlazy bench command`: what running a program through the `command` kind costs, side by side with starting
/// the same program bare (Process.Start, stdin, read its output): the spawn overhead per run, in the kind alone and
/// inside a sweep on an embedded silo; and how long a row the program prints takes to reach Parquet.
/// </summary>
internal static class CommandBench
{
    public static Command Create()
    {
        var runs = new Option<int>("--runs") { Description = "runs per measurement", DefaultValueFactory = _ => 40 };
        var cmd = new Command("command", "Spawn overhead of the command kind vs a bare spawn of the same program, "
            + "and the time from a printed row to Parquet.") { runs };
        cmd.SetAction(async (p, ct) => await RunAsync(Math.Max(4, p.GetValue(runs)), ct));
        return cmd;
    }

    private static async Task<int> RunAsync(int runs, CancellationToken ct)
    {
        string dir = Directory.CreateTempSubdirectory("richlazy-bench-command-").FullName;
        string program = Script(dir, "one.sh", "cat > /dev/null\necho '{\"step\": 0, \"loss\": 1}'\n");
        double bare = Median(Enumerable.Range(0, runs).Select(_ => Bare(program)));
        var kind = new CommandRun();
        var spec = new JsonObject { ["command"] = new JsonArray(program), ["metrics"] = new JsonArray("loss") };
        double viaKind = Median(Enumerable.Range(0, runs).Select(_ => Timed(() => kind.Run(new Spec(spec)))));
        Console.WriteLine($"bare spawn of the program: {bare:F1} ms (median of {runs})");
        Console.WriteLine($"through the command kind:  {viaKind:F1} ms, overhead {viaKind - bare:F1} ms, ratio "
            + $"{viaKind / bare:F2}");

        // In a sweep: each run's wall_seconds (its execution on a slot) against the bare spawn.
        string yaml = $"name: bench-command\nkind: command\nparams: {{ command: [{program}], metrics: [loss] }}\n"
            + $"axes:\n  lr: {{ from: 0, to: 1 }}\ngrid: {{ initial: [{runs}] }}\n";
        var rows = await SweepAsync(yaml, Path.Combine(dir, "sweep"), ct);
        double inSweep = Median(rows.Select(r => r.WallSeconds * 1000));
        Console.WriteLine($"in a sweep (wall_seconds):  {inSweep:F1} ms, overhead {inSweep - bare:F1} ms, ratio "
            + $"{inSweep / bare:F2}");

        // Latency: the program stamps each row with the time it printed it; a watcher notes when each appears.
        string stamping = Script(dir, "stamp.sh", "cat > /dev/null\nfor i in 0 1 2 3 4 5 6 7; do\n"
            + "  echo \"{\\\"step\\\": $i, \\\"printed\\\": $(date +%s.%N)}\"; sleep 0.7\ndone\n");
        string latencyYaml = $"name: bench-latency\nkind: command\nparams: {{ command: [{stamping}], "
            + "metrics: [printed] }\naxes:\n  lr: { from: 0, to: 1 }\ngrid: { initial: [2] }\n";
        string latencyDir = Path.Combine(dir, "latency");
        var seen = new Dictionary<(string, long), double>();
        using var watching = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!watching.IsCancellationRequested)
            {
                foreach (var r in await ResultFiles.ReadAllAsync(latencyDir))
                    seen.TryAdd((r.RunId, r.Step), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
                await Task.Delay(20);
            }
        });
        var stamped = await SweepAsync(latencyYaml, latencyDir, ct);
        await watching.CancelAsync();
        await watcher;
        var delays = stamped.Where(r => seen.ContainsKey((r.RunId, r.Step)))
            .Select(r => seen[(r.RunId, r.Step)] - r.Metric("printed")!.Value).ToList();
        Console.WriteLine($"printed row to Parquet: median {Median(delays):F2} s, max {delays.Max():F2} s "
            + $"({delays.Count} rows seen while the sweep ran)");
        Directory.Delete(dir, true);
        return 0;
    }

    private static string Script(string dir, string name, string body)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, "#!/bin/bash\n" + body);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>The same program started bare: stdin closed, its output read to the end, its exit awaited.</summary>
    private static double Bare(string program) => Timed(() =>
    {
        using var p = Process.Start(new ProcessStartInfo(program)
            { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true })!;
        p.StandardInput.Write("{}");
        p.StandardInput.Close();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
    });

    private static double Timed(Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        return sw.Elapsed.TotalMilliseconds;
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length == 0 ? double.NaN : v[v.Length / 2];
    }

    private static async Task<IReadOnlyList<ResultRow>> SweepAsync(string yaml, string dir, CancellationToken ct)
    {
        var spec = Sweeps.SweepSpec.Parse(yaml, Engine.KindCatalog.Kinds);
        using var host = Silo.SiloSetup.BuildEmbedded(1);
        await host.StartAsync(ct);
        await SweepRunner.RunOnAsync(host.Services.GetRequiredService<IClusterClient>(), spec, yaml, dir, 1, ct);
        await host.StopAsync(CancellationToken.None);
        return await ResultFiles.ReadAllAsync(dir, ct);
    }
}
