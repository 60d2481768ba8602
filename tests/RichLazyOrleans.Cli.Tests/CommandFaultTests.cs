using RichLazyOrleans.Engine;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RichLazyOrleans.Results;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// The `command` kind under faults on a real cluster (redis-server, `richlazy silo --redis --allow-commands`
/// processes): the numpy example's runs survive a SIGKILLed silo and a SIGTERM hand-off by resuming from the
/// program's own checkpoints; every (run_id, step) is written once and the final rows equal uninterrupted runs'.
/// Needs redis-server and Debian's python3-numpy (.ci/run installs both); without them the tests are reported skipped.
/// </summary>
[Collection("cluster faults")]
public class CommandFaultTests
{
    private const int Steps = 12_000, Every = 1_000, RowsPerRun = Steps / Every + 1;

    private static string Ready()
    {
        Skip.If(ClusterHarness.RedisServer is null,
            "redis-server not installed; the command-kind fault tests did not run");
        string? python = CommandKindCliTests.NumpyPython();
        Skip.If(python is null, "no python3 with numpy; the command-kind fault tests did not run");
        return python!;
    }

    private static string Spec(string name, string python) =>
        Write(Path.Combine(Directory.CreateTempSubdirectory("rl-cmd-fault-").FullName, name + ".yaml"), $$"""
            name: {{name}}
            kind: command
            params:
              command: [{{python}}, {{CommandKindCliTests.Example("teacher_student.py")}}]
              metrics: [train_loss, test_loss]
              n: 300
              d: 20
              width: 32
              steps: {{Steps}}
              every: {{Every}}
            axes:
              lr: { from: 0.02, to: 0.08 }
            grid: { initial: [4] }
            """);

    private static string Write(string path, string text) { File.WriteAllText(path, text); return path; }

    /// <summary>Runs that started on <paramref name="n"/> and have not finished there (from its run grains' logs).
    /// </summary>
    private static HashSet<string> Running(ClusterHarness.Node n)
    {
        var last = new Dictionary<string, string>();
        foreach (var l in n.Lines.ToList())
            if (Regex.Match(l, @"RunGrain.*run (\S+) (started|finished|interrupted) on") is { Success: true } m)
                last[m.Groups[1].Value] = m.Groups[2].Value;
        return last.Where(kv => kv.Value == "started").Select(kv => kv.Key).ToHashSet();
    }

    /// <summary>Every run complete with each step once, and its last row equal to the same program run straight
    /// through (`richlazy run command` on the row's own spec, without a checkpoint directory).</summary>
    private static void AssertExactlyOnceAndUninterrupted(string dir, int runs)
    {
        var rows = ResultFiles.ReadAllAsync(dir).GetAwaiter().GetResult();
        Assert.Equal(runs * RowsPerRun, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => (r.RunId, r.Step)).Distinct().Count());
        Assert.Contains(rows, r => r.ResumedFromStep > 0);   // some run continued from its own checkpoint
        foreach (var last in rows.Where(r => r.Step == Steps))
        {
            var spec = JsonNode.Parse(last.ParamsJson)!.AsObject();
            spec.Remove("checkpoint_dir");
            var straight = CliProcess.Run("run", "command", "--spec", CliProcess.SpecFile(spec.ToJsonString()));
            Assert.True(straight.ExitCode == 0, straight.Stderr);
            var reference = JsonNode.Parse(straight.Stdout)!.AsArray().Last()!;
            Assert.Equal(reference["train_loss"]!.GetValue<double>(), last.TrainLoss!.Value, 12);
            Assert.Equal(reference["test_loss"]!.GetValue<double>(), last.TestLoss!.Value, 12);
        }
    }

    [SkippableTheory]
    [Trait("Category", "Fault")]
    [InlineData("KILL")]
    [InlineData("TERM")]
    public void Programs_resume_from_their_own_checkpoints_after_a_silo_is_lost(string signal)
    {
        string python = Ready();
        using var c = new ClusterHarness();
        c.StartRedis();
        var silos = c.StartSilos(2, 1, "--allow-commands");
        string name = $"cmd-{signal.ToLowerInvariant()}",
            dir = Directory.CreateTempSubdirectory("rl-cmd-fault-out-").FullName;
        var (client, lines) = c.Client("sweep", "run", Spec(name, python), "--out", dir, "--redis", c.Redis);
        // Wait until a silo runs a program that has saved a state, then take that silo away.
        ClusterHarness.Node? victim = null;
        ClusterHarness.WaitUntil(() =>
        {
            victim = silos.FirstOrDefault(s => Running(s).Any(run =>
                File.Exists(Path.Combine(dir, "checkpoints", run, "state.npz"))));
            return victim is not null;
        }, TimeSpan.FromSeconds(90), "a program to save a state\n" + c.Logs());
        if (signal == "KILL") ClusterHarness.Kill(victim!);
        else ClusterHarness.Signal(victim!.Process!, "TERM");
        Assert.True(client.WaitForExit(240_000), "the sweep did not finish\n" + string.Join("\n", lines) + c.Logs());
        Assert.True(client.ExitCode == 0, string.Join("\n", lines) + c.Logs());
        AssertExactlyOnceAndUninterrupted(dir, 4);
        // A SIGKILLed silo took its programs with it (pdeathsig): none is left running the example.
        if (signal == "KILL")
        {
            Thread.Sleep(500);
            var left = System.Diagnostics.Process.GetProcesses().Count(p =>
            {
                try { return File.ReadAllText($"/proc/{p.Id}/environ").Contains(dir); }
                catch (IOException) { return false; }
                catch (UnauthorizedAccessException) { return false; }
            });
            Assert.Equal(0, left);
        }
    }

    [SkippableFact]
    [Trait("Category", "Fault")]
    public async Task Crashing_hanging_garbage_and_repeating_programs_end_as_they_should_on_a_cluster()
    {
        Ready();
        using var c = new ClusterHarness();
        c.StartRedis();
        c.StartSilos(2, 2, "--allow-commands");
        // One program, four behaviours by the `mode` axis (0, 1, 2, 3).
        string program = Path.Combine(Directory.CreateTempSubdirectory("rl-cmd-modes-").FullName, "modes.sh");
        File.WriteAllText(program, """
            #!/bin/bash
            mode=$(grep -o '"mode":[0-9.]*' "$RICHLAZY_SPEC_FILE" | cut -d: -f2 | cut -d. -f1)
            echo '{"step": 0, "loss": 1}'
            case "$mode" in
              0) echo "Traceback: CUDA out of memory" >&2; exit 7 ;;
              1) sleep 60 ;;
              2) echo 'epoch 1/10 [=====>    ]'; echo '{"step": 1, "loss": 0.5}' ;;
              3) echo '{"step": 1, "loss": 0.5}'; echo '{"step": 1, "loss": 0.4}'; echo '{"step": 2, "loss": 0.3}' ;;
            esac
            """);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string spec = Write(Path.Combine(Path.GetDirectoryName(program)!, "modes.yaml"), $$"""
            name: cmd-modes
            kind: command
            params: { command: [{{program}}], metrics: [loss], timeout_s: 3, grace_s: 1 }
            axes:
              mode: { from: 0, to: 3 }
            grid: { initial: [4] }
            """);
        string dir = Directory.CreateTempSubdirectory("rl-cmd-modes-out-").FullName;
        var run = CliProcess.Run("sweep", "run", spec, "--out", dir, "--redis", c.Redis);   // the silos are up
        Assert.True(run.ExitCode == 1, run.Stderr + c.Logs());   // finished, with failed runs
        Assert.Contains("2 failed", run.Stdout);
        Assert.Contains("exit code 7", run.Stderr);
        Assert.Contains("CUDA out of memory", run.Stderr);   // the stderr tail, in the status
        Assert.Contains("timeout_s = 3", run.Stderr);
        var rows = await ResultFiles.ReadAllAsync(dir);
        var byRun = rows.GroupBy(r => (long)Math.Round(r.Metric("mode")!.Value))
            .ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal([0L, 1], byRun[2].Select(r => r.Step).Order());        // garbage ignored, rows kept
        Assert.Equal([0L, 1, 2], byRun[3].Select(r => r.Step).Order());     // a repeated step once
        Assert.Equal(0.5, byRun[3].Single(r => r.Step == 1).Loss);         // the first report of it
        Assert.Equal(rows.Count, rows.Select(r => (r.RunId, r.Step)).Distinct().Count());
        Assert.Contains("not a JSON object", File.ReadAllText(Path.Combine(dir, "logs", byRun[2][0].RunId + ".log")));
    }
}
