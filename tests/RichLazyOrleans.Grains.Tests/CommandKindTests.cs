using RichLazyOrleans.Engine;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Grains;
using RichLazyOrleans.Results;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Grains.Tests;

/// <summary>The `command` kind inside the orchestrator: what a silo allows, its schema names, stopping a program.
/// </summary>
public class CommandKindTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static string Script(string body)
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("rl-cmd-").FullName, "prog.sh");
        File.WriteAllText(path, "#!/bin/bash\n" + body);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static string Yaml(string name, string program, string extra = "") => $$"""
        name: {{name}}
        kind: command
        params: { command: [{{program}}], metrics: [loss]{{extra}} }
        axes:
          lr: { from: 0.1, to: 1.0 }
        grid: { initial: [3] }
        refine: { metric: loss, threshold: 0.5, max_depth: 1, budget: 4 }
        """;

    [Fact]
    public void The_fixed_result_columns_the_kind_reserves_are_the_schemas()
    {
        Assert.Equal(ResultParquet.FixedNames.Order(), CommandRun.FixedColumns.Order());
    }

    [Fact]
    public void A_silo_without_allow_commands_refuses_a_command_sweep_and_an_open_kind_checks_its_metric()
    {
        string program = Script("echo '{\"step\": 0, \"loss\": 1}'\n");
        var e = Assert.Throws<SpecException>(() => SweepRuns.Validate(Yaml("cmd", program),
            KindCatalog.Kinds, "cmd", Path.GetTempPath(), commands: new CommandPolicy(false)));
        Assert.Contains("--allow-commands", e.Message);
        SweepRuns.Validate(Yaml("cmd", program), KindCatalog.Kinds, "cmd", Path.GetTempPath());
        e = Assert.Throws<SpecException>(() => SweepRuns.Validate(
            Yaml("cmd", program).Replace("metric: loss", "metric: accuracy"), KindCatalog.Kinds, "cmd",
            Path.GetTempPath()));
        Assert.Contains("not among the metrics params.metrics declares (loss)", e.Message);
        e = Assert.Throws<SpecException>(() => SweepRuns.Validate(
            Yaml("cmd", "/no/such/program"), KindCatalog.Kinds, "cmd", Path.GetTempPath()));
        Assert.Contains("key 'command'", e.Message);   // checked before the sweep starts, not by every run
    }

    [Fact]
    public async Task Stopping_a_sweep_sends_its_programs_SIGTERM_and_they_save_before_they_go()
    {
        // The program saves its state on SIGTERM (as a training script should) and the run counts as interrupted.
        string program = Script("""
            trap 'echo "saved at $step" > "$RICHLAZY_CHECKPOINT_DIR/state"; exit 143' TERM
            step=0
            echo '{"step": 0, "loss": 2}'
            while true; do sleep 0.1 & wait $!; step=$((step+1)); done
            """);
        string dir = Directory.CreateTempSubdirectory("rl-cmd-stop-").FullName;
        var g = fixture.Cluster.GrainFactory.GetGrain<ISweepCoordinatorGrain>("cmd-stop");
        await g.Start(new SweepRequest(Yaml("cmd-stop", program), dir));
        // Each program's log starts when it does. Runs placed on a silo whose slots are taken wait (placement may
        // put several on one silo), and a run stopped while waiting never starts its program.
        string logs = Path.Combine(dir, "logs");
        for (var deadline = DateTime.UtcNow.AddSeconds(30);
             !Directory.Exists(logs) || Directory.GetFiles(logs).Length < 2; await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, $"the programs did not start: {await g.GetStatus()}");
        await Task.Delay(500);
        await g.Stop();
        SweepStatus s;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !(s = await g.GetStatus()).Finished; await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, $"the sweep did not stop: {s}");
        Assert.Equal(("cancelled", 0, 0), (s.State, s.Done, s.Failed));
        int started = Directory.GetFiles(logs, "*.log").Length;
        var saved = Directory.GetFiles(Path.Combine(dir, "checkpoints"), "state", SearchOption.AllDirectories);
        Assert.Equal(started, saved.Length);   // every program that started got SIGTERM and saved
        Assert.All(saved, f => Assert.StartsWith("saved at", File.ReadAllText(f)));
        // Rows the programs printed before they stopped are kept (step 0 of each).
        Assert.Equal(started, (await ResultFiles.ReadAllAsync(dir)).Count);
    }
}
