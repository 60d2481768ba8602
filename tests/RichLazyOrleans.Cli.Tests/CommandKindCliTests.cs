using RichLazyOrleans.Engine;
using System.Text.Json.Nodes;
using RichLazyOrleans.Results;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// The `command` kind: a researcher's own program as a child process (spec JSON in, JSON Lines out), through
/// `richlazy run command` and `sweep run`. Programs here are small bash scripts and the numpy example.
/// </summary>
public class CommandKindCliTests
{
    private static string Script(string body)
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("rl-cmd-").FullName, "prog.sh");
        File.WriteAllText(path, "#!/bin/bash\n" + body);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static string Spec(string program, string extra = "") =>
        CliProcess.SpecFile($$"""{ "command": ["{{program}}"], "metrics": ["loss", "acc"], "seed": 3{{extra}} }""");

    [Fact]
    public void A_program_gets_its_spec_and_environment_and_its_rows_come_back_once_each()
    {
        string seen = Path.Combine(Directory.CreateTempSubdirectory("rl-cmd-seen-").FullName, "seen");
        string program = Script($$"""
            cat > {{seen}}.stdin
            env | grep -E '^(RICHLAZY_|OMP_|MKL_|OPENBLAS_|CUDA_VISIBLE)' | sort > {{seen}}.env
            cp "$RICHLAZY_SPEC_FILE" {{seen}}.file
            echo "working" >&2
            echo '{"step": 0, "loss": 1.5}'
            echo 'a progress bar, not JSON'
            echo '{"step": 10, "loss": 0.5, "acc": 0.9, "extra": 7}'
            echo '{"step": 10, "loss": 0.4}'
            echo '{"loss": 0.3}'
            echo '{"step": 20, "loss": null, "acc": 1, "status": "diverged"}'
            """);
        var r = CliProcess.Run("run", "command", "--spec", Spec(program, """, "lr": 0.25, "threads": 2"""));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = JsonNode.Parse(r.Stdout)!.AsArray();
        Assert.Equal([0L, 10, 20], rows.Select(x => x!["step"]!.GetValue<long>()));
        Assert.Equal(0.5, rows[1]!["loss"]!.GetValue<double>());   // the first report of a step counts
        Assert.Null(rows[0]!["acc"]);
        Assert.Null(rows[1]!["extra"]);                              // undeclared keys are not metrics
        Assert.Equal("diverged", rows[2]!["status"]!.GetValue<string>());
        Assert.Contains("not a JSON object", r.Stderr);
        Assert.Contains("without an integer 'step'", r.Stderr);
        Assert.Contains("working", r.Stderr);
        // The whole spec, untouched, on stdin and in the file.
        var spec = JsonNode.Parse(File.ReadAllText(seen + ".stdin"))!;
        Assert.Equal(0.25, spec["lr"]!.GetValue<double>());
        Assert.Equal(File.ReadAllText(seen + ".stdin"), File.ReadAllText(seen + ".file"));
        var env = File.ReadAllLines(seen + ".env").Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("1", env["RICHLAZY_ATTEMPT"]);
        Assert.Equal("2", env["RICHLAZY_THREADS"]);
        Assert.Equal("2", env["OMP_NUM_THREADS"]);
        Assert.Equal("2", env["OPENBLAS_NUM_THREADS"]);
        Assert.Equal("", env["CUDA_VISIBLE_DEVICES"]);   // a CPU slot sees no GPU
        Assert.False(File.Exists(env["RICHLAZY_SPEC_FILE"]), "the spec file is removed after the run");
    }

    [Fact]
    public void A_failing_program_fails_with_its_exit_code_and_the_end_of_its_stderr()
    {
        string program = Script("echo '{\"step\": 0, \"loss\": 1}'\necho 'Traceback: boom' >&2\nexit 3\n");
        var r = CliProcess.Run("run", "command", "--spec", Spec(program));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("exit code 3", r.Stderr);
        Assert.Contains("Traceback: boom", r.Stderr.Split('\n').Last(l => l.Length > 0));
    }

    [Fact]
    public void A_hanging_program_is_stopped_at_its_timeout()
    {
        // sleep, a child of the script, holds the output pipe: stopping the script alone did not end the run.
        string program = Script("echo '{\"step\": 0, \"loss\": 1}'\nsleep 60\n");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var r = CliProcess.Run("run", "command", "--spec", Spec(program, """, "timeout_s": 1, "grace_s": 1"""));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("timeout_s = 1", r.Stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("""{ "command": ["no-such-program-richlazy"], "metrics": ["loss"] }""", "not on PATH")]
    [InlineData("""{ "command": ["NOT_EXECUTABLE"], "metrics": ["loss"] }""", "not an executable file")]
    [InlineData("""{ "command": [], "metrics": ["loss"] }""", "key 'command'")]
    [InlineData("""{ "command": "python3 train.py", "metrics": ["loss"] }""", "list of strings")]
    [InlineData("""{ "command": ["bash"] }""", "key 'metrics'")]
    [InlineData("""{ "command": ["bash"], "metrics": ["step"] }""", "fixed result column")]
    [InlineData("""{ "command": ["bash"], "metrics": ["a b"] }""", "letters, digits")]
    [InlineData("""{ "command": ["bash"], "metrics": ["loss"], "workdir": "/no/such/dir" }""", "key 'workdir'")]
    [InlineData("""{ "command": ["bash"], "metrics": ["loss"], "env": ["x"] }""", "key 'env'")]
    [InlineData("""{ "command": ["bash"], "metrics": ["loss"], "timeout_s": -1 }""", "key 'timeout_s'")]
    public void A_bad_command_spec_is_one_line_and_exit_2(string json, string expected)
    {
        if (json.Contains("NOT_EXECUTABLE"))
        {
            string plain = Path.Combine(Directory.CreateTempSubdirectory("rl-cmd-plain-").FullName, "train.py");
            File.WriteAllText(plain, "print('hi')\n");   // no execute bit
            json = json.Replace("NOT_EXECUTABLE", plain);
        }
        var r = CliProcess.Run("run", "command", "--spec", CliProcess.SpecFile(json));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(expected, Assert.Single(r.Stderr.Trim().Split('\n')));
        Assert.Equal("", r.Stdout);
    }

    /// <summary>A python3 with numpy (Debian's python3-numpy; .ci/run installs it), or null.</summary>
    internal static string? NumpyPython()
    {
        foreach (var python in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(python,
                    ["-c", "import numpy"]) { RedirectStandardError = true })!;
                p.WaitForExit(30_000);
                if (p.ExitCode == 0) return python;
            }
            catch (System.ComponentModel.Win32Exception) { }
        }
        return null;
    }

    internal static string Example(string file) => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..",
        "..", "..", "..", "client", "RichLazyOrleans.Cli", "examples", "command", file));

    [SkippableFact]
    public async Task The_numpy_example_sweeps_its_own_hyper_parameters_with_columns_and_logs()
    {
        string? python = NumpyPython();
        Skip.If(python is null, "no python3 with numpy; the command-kind example did not run");
        string yaml = File.ReadAllText(Example("sweep.yaml"))
            .Replace("[python3, client/RichLazyOrleans.Cli/examples/command/teacher_student.py]",
                $"[{python}, {Example("teacher_student.py")}]")
            .Replace("budget: 30", "budget: 20");
        string spec = Path.Combine(Directory.CreateTempSubdirectory("rl-cmd-example-").FullName, "sweep.yaml");
        File.WriteAllText(spec, yaml);
        string dir = Directory.CreateTempSubdirectory("rl-cmd-example-out-").FullName;
        var r = CliProcess.Run("sweep", "run", spec, "--out", dir, "--slots", "2");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = await ResultFiles.ReadAllAsync(dir);
        var runs = rows.GroupBy(x => x.RunId).ToList();
        Assert.InRange(runs.Count, 16, 20);
        Assert.All(runs, g => Assert.Equal([0L, 100, 200, 300, 400], g.Select(x => x.Step).Order()));
        Assert.All(rows, x =>
        {
            Assert.Equal("command", x.Kind);
            Assert.NotNull(x.Metric("lr"));
            Assert.NotNull(x.Metric("width"));
            Assert.NotNull(x.TrainLoss);   // declared metrics that are fixed columns fill them
            Assert.NotNull(x.TestLoss);
        });
        // Gradient descent at a small enough rate lowers the training loss.
        var slow = runs.Where(g => g.First().Metric("lr") < 0.05).ToList();
        Assert.NotEmpty(slow);
        Assert.All(slow, g =>
            Assert.True(g.Single(x => x.Step == 400).TrainLoss < g.Single(x => x.Step == 0).TrainLoss));
        Assert.Equal(runs.Count, Directory.GetFiles(Path.Combine(dir, "logs"), "*.log").Length);
        Assert.True(File.Exists(Path.Combine(dir, "checkpoints", runs[0].Key, "state.npz")));
    }

    [Fact]
    public async Task Gpu_slots_pin_each_run_to_its_own_gpu_and_never_two_at_once()
    {
        // Pretend devices (no GPU here): each program records the GPU it sees and when it held it.
        string program = Script("""
            start=$(date +%s%N)
            sleep 0.3
            echo "$CUDA_VISIBLE_DEVICES $start $(date +%s%N)" > "$RICHLAZY_CHECKPOINT_DIR/gpu"
            echo '{"step": 0, "loss": 1}'
            """);
        string Yaml(string name, string device) =>
            $"name: {name}\nkind: command\nparams: {{ command: [{program}], metrics: [loss]{device} }}\n"
            + "axes:\n  lr: { from: 0.1, to: 1 }\ngrid: { initial: [6] }\n";
        string dir = Directory.CreateTempSubdirectory("rl-gpu-").FullName;
        string spec = Path.Combine(dir, "gpu.yaml");
        File.WriteAllText(spec, Yaml("gpu-pinned", ", device: cuda"));
        var r = CliProcess.Run("sweep", "run", spec, "--out", Path.Combine(dir, "out"), "--gpus", "0,1",
            "--slots", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var held = Directory.GetFiles(Path.Combine(dir, "out", "checkpoints"), "gpu", SearchOption.AllDirectories)
            .Select(f => File.ReadAllText(f).Trim().Split(' ')).Select(x => (Gpu: x[0], From: long.Parse(x[1]),
                To: long.Parse(x[2]))).ToList();
        Assert.Equal(6, held.Count);
        Assert.Equal(["0", "1"], held.Select(h => h.Gpu).Distinct().Order());   // both GPUs, nothing else
        foreach (var g in held.GroupBy(h => h.Gpu))
        {
            var byStart = g.OrderBy(h => h.From).ToList();
            for (int k = 1; k < byStart.Count; k++)
                Assert.True(byStart[k].From >= byStart[k - 1].To, $"two runs held GPU {g.Key} at once");
        }
        Assert.Equal(6, (await ResultFiles.ReadAllAsync(Path.Combine(dir, "out"))).Count);

        // Without GPU slots a run that asks for one is refused before the sweep starts.
        File.WriteAllText(spec, Yaml("gpu-none", ", device: cuda"));
        var refused = CliProcess.Run("sweep", "run", spec, "--out", Path.Combine(dir, "none"));
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--gpus", refused.Stderr);
        // A run that does not ask sees no GPU, even on a silo with GPU slots.
        File.WriteAllText(spec, Yaml("gpu-cpu", ""));
        Assert.Equal(0,
            CliProcess.Run("sweep", "run", spec, "--out", Path.Combine(dir, "cpu"), "--gpus", "0").ExitCode);
        Assert.All(Directory.GetFiles(Path.Combine(dir, "cpu", "checkpoints"), "gpu", SearchOption.AllDirectories),
            f => Assert.StartsWith(" ", File.ReadAllText(f)));
    }
}
