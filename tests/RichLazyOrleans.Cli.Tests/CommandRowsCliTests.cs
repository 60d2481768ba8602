using System.Text.Json.Nodes;
using RichLazyOrleans.Results;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// A researcher's own program, written as people write them (issue 23): Python's `json.dumps` prints NaN and
/// Infinity bare, a line repeats a key, a step is 1e300, a progress bar prints a 2 MB line, stderr has a 20 MB
/// line, the script name is misspelt. Each is a row, a bad line that is counted, or a one-line refusal; none fails
/// a run that printed its rows or floods a status.
/// </summary>
public class CommandRowsCliTests
{
    private static string? Python() =>
        new[] { "/usr/bin/python3", "/usr/local/bin/python3" }.FirstOrDefault(File.Exists);

    private static string Program(string dir, string body)
    {
        string path = Path.Combine(dir, "train.py");
        File.WriteAllText(path, "import json, math, sys\n" + body);
        return path;
    }

    private const string Printing = """
        spec = json.load(sys.stdin)
        print(json.dumps({"step": 0, "loss": 1.0, "acc": 0.5}))
        print(json.dumps({"step": 1, "loss": float("nan"), "acc": float("inf")}))
        print(json.dumps({"step": 2, "loss": -math.inf, "acc": None, "note": "NaN in a string stays a string"}))
        print('{"step": 3, "loss": 1, ' + '"loss": 2}')
        print(json.dumps({"step": 1e300, "loss": 0.1}))
        print("x" * (2 * 1024 * 1024))
        print(json.dumps({"step": 4, "loss": 0.25, "status": "diverged"}))
        """;

    [SkippableFact]
    public void Nan_and_infinity_are_values_and_bad_lines_are_skipped_not_fatal()
    {
        string? python = Python();
        Skip.If(python is null, "no python3");
        string dir = Directory.CreateTempSubdirectory("rl-cmdrows-").FullName;
        string spec = CliProcess.SpecFile($$"""
            { "command": ["{{python}}", "{{Program(dir, Printing)}}"], "metrics": ["loss", "acc"] }
            """);
        var r = CliProcess.Run("run", "command", "--spec", spec);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = JsonNode.Parse(r.Stdout)!.AsArray();
        Assert.Equal([0L, 1, 2, 4], rows.Select(x => x!["step"]!.GetValue<long>()));
        Assert.Equal("NaN", rows[1]!["loss"]!.GetValue<string>());         // JSON has no NaN: written as the string
        Assert.Equal("Infinity", rows[1]!["acc"]!.GetValue<string>());
        Assert.Equal("-Infinity", rows[2]!["loss"]!.GetValue<string>());
        Assert.Equal("diverged", rows[3]!["status"]!.GetValue<string>());
        Assert.Contains("repeats a key", r.Stderr);
        Assert.Contains("[0, 2^53]", r.Stderr);
        Assert.Contains("longer than 1048576 characters", r.Stderr);
    }

    [SkippableFact]
    public async Task A_sweep_keeps_nan_rows_in_parquet_and_counts_the_lines_it_ignored()
    {
        string? python = Python();
        Skip.If(python is null, "no python3");
        string dir = Directory.CreateTempSubdirectory("rl-cmdrows-sweep-").FullName;
        string yaml = Path.Combine(dir, "sweep.yaml");
        File.WriteAllText(yaml, $$"""
            name: cmd-rows
            kind: command
            params: { command: [{{python}}, {{Program(dir, Printing)}}], metrics: [loss, acc] }
            axes:
              lr: { from: 0.1, to: 1, scale: log }
            grid: { initial: [2] }
            """);
        string outDir = Path.Combine(dir, "out");
        var r = CliProcess.Run("sweep", "run", yaml, "--out", outDir, "--slots", "2");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("6 stdout line(s) of the programs were not rows", r.Stderr);   // 3 per run, 2 runs
        var rows = await ResultFiles.ReadAllAsync(outDir);
        Assert.Equal(8, rows.Count);
        Assert.All(rows.Where(x => x.Step == 1), x =>
        {
            Assert.True(double.IsNaN(x.Metric("loss")!.Value));
            Assert.Equal(double.PositiveInfinity, x.Metric("acc"));
            Assert.Equal("ok", x.Status);   // NaN does not change the status; the program's own word does
        });
        Assert.All(rows.Where(x => x.Step == 2), x => Assert.Equal(double.NegativeInfinity, x.Metric("loss")));
        Assert.All(rows.Where(x => x.Step == 4), x => Assert.Equal("diverged", x.Status));
    }

    [SkippableFact]
    public void A_program_that_exits_0_without_printing_a_row_fails()
    {
        string? python = Python();
        Skip.If(python is null, "no python3");
        string dir = Directory.CreateTempSubdirectory("rl-cmdrows-none-").FullName;
        string spec = CliProcess.SpecFile($$"""
            { "command": ["{{python}}", "{{Program(dir, "print('training...')\n")}}"], "metrics": ["loss"] }
            """);
        var r = CliProcess.Run("run", "command", "--spec", spec);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("printed no rows", r.Stderr);
        Assert.Contains("1 line(s) were not rows", r.Stderr);
    }

    [SkippableFact]
    public void A_misspelt_script_is_refused_before_anything_starts_with_its_full_path()
    {
        string? python = Python();
        Skip.If(python is null, "no python3");
        string dir = Directory.CreateTempSubdirectory("rl-cmdrows-typo-").FullName;
        Program(dir, "print('{}')\n");
        string yaml = Path.Combine(dir, "sweep.yaml");
        File.WriteAllText(yaml, $$"""
            name: cmd-typo
            kind: command
            params: { command: [{{python}}, -u, trian.py], workdir: {{dir}}, metrics: [loss] }
            axes:
              lr: { from: 0.1, to: 1, scale: log }
            """);
        string outDir = Path.Combine(dir, "out");
        var r = CliProcess.Run("sweep", "run", yaml, "--out", outDir);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"script {Path.Combine(dir, "trian.py")} does not exist", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.False(Directory.Exists(Path.Combine(outDir, "runs")));
        // Inline code and modules have no script to check.
        string inline = CliProcess.SpecFile($$"""
            { "command": ["{{python}}", "-c", "print('{\"step\": 0, \"loss\": 1}')"], "metrics": ["loss"] }
            """);
        Assert.Equal(0, CliProcess.Run("run", "command", "--spec", inline).ExitCode);
    }

    [SkippableFact]
    public void A_huge_stderr_line_is_quoted_by_its_last_4_kb_only()
    {
        string? python = Python();
        Skip.If(python is null, "no python3");
        string dir = Directory.CreateTempSubdirectory("rl-cmdrows-stderr-").FullName;
        string body = "print(json.dumps({'step': 0, 'loss': 1}))\nsys.stderr.write('E' * 20_000_000 + 'END\\n')\n"
            + "sys.exit(3)\n";
        string spec = CliProcess.SpecFile($$"""
            { "command": ["{{python}}", "{{Program(dir, body)}}"], "metrics": ["loss"] }
            """);
        var r = CliProcess.Run("run", "command", "--spec", spec);
        Assert.Equal(1, r.ExitCode);
        string reason = r.Stderr.Split('\n').Last(l => l.Contains("exit code 3"));
        Assert.Contains("EEEEEND", reason);   // the end of the line, not its start
        Assert.InRange(reason.Length, 100, 4096 + 200);
    }

    [SkippableFact]
    public void The_spec_file_is_private_and_gone_after_the_run()
    {
        Skip.If(OperatingSystem.IsWindows(), "unix file modes");
        string dir = Directory.CreateTempSubdirectory("rl-cmdrows-secret-").FullName;
        string seen = Path.Combine(dir, "seen");
        string script = Path.Combine(dir, "prog.sh");
        File.WriteAllText(script, $$"""
            #!/bin/bash
            stat -c '%a' "$RICHLAZY_SPEC_FILE" > {{seen}}
            stat -c '%a' "$(dirname "$RICHLAZY_SPEC_FILE")" >> {{seen}}
            echo "$RICHLAZY_SPEC_FILE" >> {{seen}}
            echo '{"step": 0, "loss": 1}'
            """);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string spec = CliProcess.SpecFile($$"""
            { "command": ["{{script}}"], "metrics": ["loss"], "env": { "API_TOKEN": "s3cret" } }
            """);
        var r = CliProcess.Run("run", "command", "--spec", spec);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = File.ReadAllLines(seen);
        Assert.Equal("600", lines[0]);
        Assert.Equal("700", lines[1]);
        Assert.False(File.Exists(lines[2]));
    }

    [Fact]
    public void A_sweep_whose_first_runs_all_fail_alike_stops_with_that_reason()
    {
        string dir = Directory.CreateTempSubdirectory("rl-cmdrows-failfast-").FullName;
        string Spec(string extra) => $$"""
            name: fail-fast
            kind: command
            params:
              command: [sh, -c, "echo 'ModuleNotFoundError: No module named torch' >&2; exit 1"]
              metrics: [loss]
            axes:
              lr: { from: 0.1, to: 1.0 }
            grid: { initial: [12] }
            {{extra}}
            """;
        File.WriteAllText(Path.Combine(dir, "a.yaml"), Spec(""));
        var r = CliProcess.Run("sweep", "run", Path.Combine(dir, "a.yaml"), "--out", Path.Combine(dir, "a"),
            "--slots", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("sweep fail-fast: failed", r.Stdout);
        Assert.Contains("all failed with the same reason, so the sweep stopped (max_failures: 3)", r.Stderr);
        Assert.Contains("No module named torch", r.Stderr);
        int failed = int.Parse(System.Text.RegularExpressions.Regex.Match(r.Stdout, @"(\d+) failed").Groups[1].Value);
        Assert.InRange(failed, 3, 5);   // the three, and the runs already started (a window of 2 per slot)

        File.WriteAllText(Path.Combine(dir, "b.yaml"), Spec("max_failures: 0").Replace("fail-fast", "no-fail-fast"));
        r = CliProcess.Run("sweep", "run", Path.Combine(dir, "b.yaml"), "--out", Path.Combine(dir, "b"),
            "--slots", "2");
        Assert.Contains("all 12 run(s) failed", r.Stdout);
        Assert.DoesNotContain("max_failures", r.Stderr);
    }

    /// <summary>Ctrl+C on a `command` sweep whose program even ignores SIGTERM: exit 130 within grace_s + 5 s, a
    /// few lines on stderr and no stack trace (the probe saw 90-97 s and 1.7 MB of traces).</summary>
    [SkippableFact]
    public async Task Ctrl_c_on_a_command_sweep_is_quick_and_quiet()
    {
        string? python = Python();
        Skip.If(python is null || OperatingSystem.IsWindows(), "no python3, or no SIGINT");
        string dir = Directory.CreateTempSubdirectory("rl-cmdrows-ctrlc-").FullName;
        string program = Program(dir, """
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)   # a stubborn program: only SIGKILL ends it
            json.load(sys.stdin)
            for step in range(10_000):
                print(json.dumps({"step": step, "loss": 1 / (step + 1)}), flush=True)
                time.sleep(0.1)
            """);
        File.WriteAllText(Path.Combine(dir, "sweep.yaml"), $$"""
            name: ctrl-c
            kind: command
            params: { command: [{{python}}, {{program}}], metrics: [loss], grace_s: 3 }
            axes:
              lr: { from: 0.1, to: 1.0 }
            grid: { initial: [4] }
            """);
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet")
            { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "richlazy.dll"), "sweep", "run",
                     Path.Combine(dir, "sweep.yaml"), "--out", Path.Combine(dir, "out"), "--slots", "2" })
            psi.ArgumentList.Add(a);
        using var sweep = System.Diagnostics.Process.Start(psi)!;
        var err = sweep.StandardError.ReadToEndAsync();
        var output = sweep.StandardOutput.ReadToEndAsync();
        string runs = Path.Combine(dir, "out", "runs");
        for (var deadline = DateTime.UtcNow.AddSeconds(60);
             !(Directory.Exists(runs) && Directory.EnumerateFiles(runs, "*.parquet").Any()); await Task.Delay(100))
            Assert.True(DateTime.UtcNow < deadline && !sweep.HasExited, "no rows were written");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", $"{sweep.Id}"])!) kill.WaitForExit();
        Assert.True(sweep.WaitForExit(60_000), "sweep run did not stop on Ctrl+C");
        double seconds = clock.Elapsed.TotalSeconds;
        string stderr = await err;
        Assert.True(sweep.ExitCode == 130, $"exit {sweep.ExitCode}: {stderr}{await output}");
        Assert.True(seconds < 3 + 5, $"took {seconds:F1} s (grace_s 3)");
        Assert.DoesNotContain("   at ", stderr);   // no stack trace
        Assert.True(stderr.Length < 4000, $"{stderr.Length} characters on stderr:\n{stderr}");
    }
}
