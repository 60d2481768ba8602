using RichLazyOrleans.Engine;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using RichLazyOrleans.Results;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>`richlazy silo` as a real process, driven by `sweep submit`, `watch`, `status` and `cancel`.</summary>
public class LocalSiloCliTests
{

    [Fact]
    public async Task Submit_then_watch_completes_and_cancel_stops_another_sweep()
    {
        int port = ClusterHarness.FreePort(), gateway = ClusterHarness.FreePort();
        // The silo confines sweeps' paths to a results root (the gateway has no authentication).
        string root = Directory.CreateTempSubdirectory("rl-local-root-").FullName;
        string Out() => Directory.CreateDirectory(Path.Combine(root, $"out-{Guid.NewGuid():N}")).FullName;
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "richlazy.dll"), "silo", "--port", $"{port}",
            "--gateway", $"{gateway}", "--slots", "2", "--results-root", root, "--data-root", root,
        })
            psi.ArgumentList.Add(a);
        using var silo = Process.Start(psi)!;
        try
        {
            string g = gateway.ToString();
            static string Spec(string name, int ms, int budget)
            {
                string path = Path.Combine(Directory.CreateTempSubdirectory("rl-local-").FullName, "s.yaml");
                File.WriteAllText(path, $"name: {name}\nkind: synthetic\n"
                    + $"params: {{ c0: 0, c1: 0.5, c2: 0, width: 0.05, duration_ms: {ms} }}\n"
                    + "axes:\n  tau: { from: 0.1, to: 10, scale: log }\n  delta: { from: -1, to: 1 }\n"
                    + "grid: { initial: [5, 5] }\n"
                    + $"refine: {{ metric: value, threshold: 0.5, max_depth: 2, budget: {budget} }}\n");
                return path;
            }

            // The silo needs a moment to open its gateway: submit retries for up to a minute.
            string dir = Out();
            CliProcess.Result submit = null!;
            for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(500))
            {
                submit = CliProcess.Run("sweep", "submit", Spec("local-a", 2, 60), "--out", dir, "--gateway", g);
                if (submit.ExitCode == 0) break;
            }
            Assert.True(submit.ExitCode == 0, submit.Stderr);

            // Paths outside the silo's roots are refused before anything starts: one line, exit 2, nothing
            // written there (a run pointed at /etc used to write there, or probe whether files exist).
            string outside = Directory.CreateTempSubdirectory("rl-local-outside-").FullName;
            var refused = CliProcess.Run("sweep", "submit", Spec("local-x", 2, 30), "--out",
                Path.Combine(outside, "x"), "--gateway", g);
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains("outside this silo's results root", Assert.Single(refused.Stderr.Trim().Split('\n')));
            File.CreateSymbolicLink(Path.Combine(root, "link"), outside);   // a link inside the root is no way out
            refused = CliProcess.Run("sweep", "submit", Spec("local-x", 2, 30), "--out",
                Path.Combine(root, "link", "x"), "--gateway", g);
            Assert.Equal(2, refused.ExitCode);
            string cnn = Path.Combine(outside, "cnn.yaml");
            File.WriteAllText(cnn, "name: local-cnn\nkind: cnn-mnist\nparams: { data_dir: /etc, steps: 1 }\n"
                + "axes:\n  alpha: { from: 0.1, to: 10, scale: log }\ngrid: { initial: [3] }\n");
            refused = CliProcess.Run("sweep", "submit", cnn, "--out", Out(), "--gateway", g);
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains("key 'data_dir': /etc is outside this silo's data root", refused.Stderr);
            Assert.Equal([cnn], Directory.EnumerateFileSystemEntries(outside));
            // A silo started without --allow-commands runs no programs: a `command` sweep is refused at submit.
            string cmd = Path.Combine(outside, "cmd.yaml");
            File.WriteAllText(cmd, "name: local-cmd\nkind: command\nparams: { command: [true], metrics: [loss] }\n"
                + "axes:\n  lr: { from: 0.1, to: 1 }\ngrid: { initial: [2] }\n");
            refused = CliProcess.Run("sweep", "submit", cmd, "--out", Out(), "--gateway", g);
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains("--allow-commands", refused.Stderr);
            File.Delete(cmd);

            // A second silo on the ports of the running one is refused (it used to start and share them, so a
            // sweep submitted twice ran on both): one line, exit 2, nothing started.
            var second = CliProcess.Run("silo", "--port", $"{port}", "--gateway", g, "--slots", "1");
            Assert.Equal(2, second.ExitCode);
            Assert.Contains("already in use", Assert.Single(second.Stderr.Trim().Split('\n')));
            // Status of a sweep nobody started: one line, exit 2 (it said "[new] 0/0" and exit 0).
            var unknown = CliProcess.Run("sweep", "status", "no-such-sweep", "--gateway", g);
            Assert.Equal(2, unknown.ExitCode);
            Assert.Contains("no sweep named 'no-such-sweep'", unknown.Stderr);

            var watch = CliProcess.Run("sweep", "watch", "local-a", "--gateway", g);
            Assert.True(watch.ExitCode == 0, watch.Stderr);
            Assert.Contains("[complete]", watch.Stdout);
            var rows = await ResultFiles.ReadAllAsync(dir);
            Assert.InRange(rows.Count, 26, 60);
            // For programs: status as one JSON object, watch as JSON Lines, list of every sweep.
            var statusJson = CliProcess.Run("sweep", "status", "local-a", "--json", "--gateway", g);
            var asJson = System.Text.Json.Nodes.JsonNode.Parse(statusJson.Stdout)!;
            Assert.Equal(("local-a", "complete", true), (asJson["sweep_id"]!.GetValue<string>(),
                asJson["state"]!.GetValue<string>(), asJson["finished"]!.GetValue<bool>()));
            Assert.Equal(rows.Count, asJson["done"]!.GetValue<int>());
            var jsonl = CliProcess.Run("sweep", "watch", "local-a", "--jsonl", "--gateway", g);
            Assert.Equal(0, jsonl.ExitCode);
            Assert.All(jsonl.Stdout.Trim().Split('\n'), l => Assert.NotNull(System.Text.Json.Nodes.JsonNode.Parse(l)));

            string dir2 = Out();
            Assert.Equal(0,
                CliProcess.Run("sweep", "submit", Spec("local-b", 200, 200), "--out", dir2, "--gateway", g).ExitCode);
            var listed = System.Text.Json.Nodes.JsonNode.Parse(CliProcess.Run("sweep", "list", "--json", "--gateway", g)
                .Stdout)!.AsArray().Select(x => x!["sweep_id"]!.GetValue<string>()).ToList();
            Assert.Equal(["local-a", "local-b"], listed);
            // Ctrl+C on watch stops watching: exit 130, one quiet line, no exception (it was exit 1 with a
            // TaskCanceledException); the sweep goes on.
            var watchPsi = new ProcessStartInfo("dotnet")
                { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "richlazy.dll"), "sweep", "watch",
                "local-b", "--gateway", g })
                watchPsi.ArgumentList.Add(a);
            using (var watcher = Process.Start(watchPsi)!)
            {
                var watchErr = new System.Text.StringBuilder();
                watcher.ErrorDataReceived += (_, e) =>
                    { if (e.Data is not null) lock (watchErr) watchErr.AppendLine(e.Data); };
                watcher.BeginErrorReadLine();
                for (var deadline = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(100))
                {
                    lock (watchErr) if (watchErr.ToString().Contains("[running]")) break;
                    Assert.True(DateTime.UtcNow < deadline && !watcher.HasExited, "watch never reported the sweep");
                }
                using (var kill = Process.Start("kill", ["-INT", $"{watcher.Id}"])!) kill.WaitForExit();
                Assert.True(watcher.WaitForExit(30_000), "watch did not stop on SIGINT");
                Assert.Equal(130, watcher.ExitCode);
                lock (watchErr) Assert.DoesNotContain("Exception", watchErr.ToString());
            }
            var cancel = CliProcess.Run("sweep", "cancel", "local-b", "--gateway", g);
            Assert.Equal(0, cancel.ExitCode);
            var watched = CliProcess.Run("sweep", "watch", "local-b", "--gateway", g);
            Assert.Equal(130, watched.ExitCode);
            Assert.Contains("[cancelled]", watched.Stdout);
            var status = CliProcess.Run("sweep", "status", "local-b", "--gateway", g);
            Assert.Contains("cancelled", status.Stdout);

            // Issue 12: submitting a cancelled sweep again said "submitted ... [cancelled]", exit 0, and ran nothing.
            // Now it says so (exit 2) and points to resume, which continues it, and delete, which forgets it.
            var again = CliProcess.Run("sweep", "submit", Spec("local-b", 200, 200), "--out", dir2, "--gateway", g);
            Assert.Equal(2, again.ExitCode);
            Assert.Contains("already ended (cancelled)", Assert.Single(again.Stderr.Trim().Split('\n')));
            int before = (await ResultFiles.ReadAllAsync(dir2)).Count;
            var resumed = CliProcess.Run("sweep", "resume", "local-b", "--gateway", g);
            Assert.True(resumed.ExitCode == 0, resumed.Stderr);
            var finished = CliProcess.Run("sweep", "watch", "local-b", "--gateway", g);
            Assert.True(finished.ExitCode == 0, finished.Stderr);
            Assert.Contains("[complete]", finished.Stdout);
            var all = await ResultFiles.ReadAllAsync(dir2);
            Assert.True(all.Count > before, $"resume ran nothing ({before} rows before, {all.Count} after)");
            Assert.Equal(all.Count, all.Select(r => (r.RunId, r.Step)).Distinct().Count());

            var deleted = CliProcess.Run("sweep", "delete", "local-a", "--results", "--gateway", g);
            Assert.True(deleted.ExitCode == 0, deleted.Stderr);
            Assert.False(Directory.Exists(dir), "delete --results removes the sweep's results");
            Assert.Equal(2, CliProcess.Run("sweep", "status", "local-a", "--gateway", g).ExitCode);   // forgotten
            var reused = CliProcess.Run("sweep", "submit", Spec("local-a", 2, 30), "--out", dir, "--gateway", g);
            Assert.True(reused.ExitCode == 0, reused.Stderr);   // the name is free again
            Assert.Equal(0, CliProcess.Run("sweep", "watch", "local-a", "--gateway", g).ExitCode);
        }
        finally
        {
            silo.Kill(true);
            silo.WaitForExit();
        }
    }
}
