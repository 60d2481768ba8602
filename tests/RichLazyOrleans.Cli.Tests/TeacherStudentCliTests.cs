using RichLazyOrleans.Engine;
using System.Diagnostics;
using System.Text.Json.Nodes;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>`richlazy run teacher-student`: contract, bad input, and a real SIGKILL mid-run followed by a
/// resume.</summary>
public class TeacherStudentCliTests
{
    private const string Small = """ "tau": 0.3, "delta": 0.5, "seed": 3, "n": 200, "d": 20, "m": 10, "n_test": 200 """;

    [Fact]
    public void Prints_the_contract_keys_per_checkpoint()
    {
        var r = CliProcess.Run("run", "teacher-student", "--spec",
            CliProcess.SpecFile($$"""{ {{Small}}, "steps": 500, "checkpoints": [0, 10, 500] }"""));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = JsonNode.Parse(r.Stdout)!.AsArray();
        Assert.Equal([0L, 10L, 500L], rows.Select(x => x!["step"]!.GetValue<long>()));
        foreach (var key in new[]
        {
            "train_loss", "test_loss", "kernel_distance", "hamming_distance", "parameter_distance", "delta_drift",
            "status",
        })
            Assert.All(rows, x => Assert.True(x!.AsObject().ContainsKey(key), key));
        Assert.Equal(0.0, rows[0]!["kernel_distance"]!.GetValue<double>());
        Assert.True(rows[2]!["train_loss"]!.GetValue<double>() < rows[0]!["train_loss"]!.GetValue<double>());
    }

    [Theory]
    [InlineData(""" "tau": 0.3, "delta": 0.5, "m": 7 """, "m")]
    [InlineData(""" "tau": 0.3, "delta": 0.5, "dtype": "float16" """, "dtype")]
    [InlineData(""" "tau": -1, "delta": 0.5 """, "tau")]
    [InlineData(""" "tau": 0.3, "delta": 0.5, "steps": 10, "checkpoints": [0, 20] """, "checkpoints")]
    [InlineData(""" "tau": 0.3, "delta": 0.5, "inputs": "/nonexistent/x.npy" """, "inputs")]
    [InlineData(""" "tau": 0.3, "delta": 0.5, "device": "tpu" """, "device")]
    [InlineData(""" "tau": 0.3, "delta": 0.5, "lr": 0.1, "base_lr": 0.1 """, "lr")]
    [InlineData(""" "tau": 0.3, "delta": 0.5, "checkpoint_every": 10 """, "checkpoint_every")]
    [InlineData(""" "tau": 0.3, "delta": 0.5, "steps": 1.5 """, "steps")]
    [InlineData(""" "tau": 0.3, "delta": 0.5, "stop": "soon" """, "stop")]
    [InlineData(""" "tau": 0.3, "delta": 0.5, "stop_tolerance": 1e-3 """, "stop_tolerance")]
    [InlineData(""" "tau": 0.3, "delta": 0.5, "stop": "converged", "stop_metrics": ["accuracy"] """, "stop_metrics")]
    [InlineData(""" "tau": 0.3, "delta": 0.5, "stop": "converged", "stop_check_every": 0 """, "stop_check_every")]
    [InlineData(""" "tau": 0.3, "delta": 0.5, "stop": "converged", "stop_atol": -1 """, "stop_atol")]
    public void Bad_input_exits_2_with_one_line_naming_the_key(string body, string key)
    {
        var r = CliProcess.Run("run", "teacher-student", "--spec",
            CliProcess.SpecFile($"{{ {body}, \"n\": 20, \"d\": 4, \"n_test\": 10 }}"));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        var line = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains($"'{key}'", line);
    }

    [Fact]
    public void Stop_converged_ends_with_a_converged_row_and_no_invented_checkpoints()
    {
        var r = CliProcess.Run("run", "teacher-student", "--spec", CliProcess.SpecFile("""
            { "tau": 0.3, "delta": 0.5, "seed": 7, "n": 10, "d": 20, "m": 8, "m0": 2, "n_test": 40, "base_lr": 0.05,
              "steps": 20000, "stop": "converged", "stop_check_every": 200 }
            """));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = JsonNode.Parse(r.Stdout)!.AsArray();
        Assert.Equal("converged", rows[^1]!["status"]!.GetValue<string>());
        long stop = rows[^1]!["step"]!.GetValue<long>();
        Assert.InRange(stop, 200, 10_000);
        long[] before = [.. new long[] { 0, 10, 100, 1000, 10_000 }.Where(s => s < stop)];
        Assert.Equal([.. before, stop], rows.Select(x => x!["step"]!.GetValue<long>()));
        Assert.Contains($"converged at step {stop}", r.Stderr);
    }

    [Fact]
    public void A_diverging_run_reports_status_diverged_and_exits_0()
    {
        var r = CliProcess.Run("run", "teacher-student", "--spec",
            CliProcess.SpecFile($$"""{ {{Small}}, "lr": 1000, "steps": 2000, "checkpoints": [0, 2000] }"""));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = JsonNode.Parse(r.Stdout)!.AsArray();
        Assert.Equal("diverged", rows[^1]!["status"]!.GetValue<string>());
    }

    [Fact]
    [Trait("Category", "Fault")]
    public void
        Killed_with_SIGKILL_mid_run_and_its_newest_checkpoint_corrupted_resumes_from_the_previous_one_bit_for_bit()
    {
        string dir = Directory.CreateTempSubdirectory("richlazy-kill-").FullName;
        string body = $$"""{ {{Small}}, "steps": 150000, "checkpoints": [0, 100, 1000, 10000, 60000, 150000],"""
            + $$""" "checkpoint_every": 2000, "checkpoint_dir": "{{dir}}" }""";
        string spec = CliProcess.SpecFile(body);
        string baselineSpec = CliProcess.SpecFile(body.Replace(dir, dir + "-baseline"));
        static long StepOf(string f) => long.Parse(Path.GetFileNameWithoutExtension(f)[6..]);

        // The victim: a real process, killed with SIGKILL once it has saved two states past step 20000.
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "richlazy.dll"), "run", "teacher-student", "--spec", spec,
        })
            psi.ArgumentList.Add(a);
        using (var victim = Process.Start(psi)!)
        {
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (Directory.GetFiles(dir, "state-*.bin").Count(f => StepOf(f) >= 20000) < 2)
            {
                Assert.False(victim.HasExited, "the run finished before it could be killed; make it longer");
                Assert.True(DateTime.UtcNow < deadline, "no checkpoint appeared in time");
                Thread.Sleep(20);
            }
            victim.Kill();   // SIGKILL on Unix: no chance to clean up
            victim.WaitForExit();
            Assert.NotEqual(0, victim.ExitCode);
        }
        var saved = Directory.GetFiles(dir, "state-*.bin").OrderByDescending(StepOf).ToList();
        Assert.True(StepOf(saved[0]) < 150000);
        // Corrupt the newest state in the middle (a flipped byte, as a bad disk or a torn copy would):
        // its SHA-256 no longer matches, so the run must fall back to the previous good state.
        var bytes = File.ReadAllBytes(saved[0]);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(saved[0], bytes);
        long fallback = StepOf(saved[1]);

        var resumed = CliProcess.Run("run", "teacher-student", "--spec", spec);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("checksum mismatch", resumed.Stderr);
        Assert.Contains($"resumed from step {fallback}", resumed.Stderr);
        var baseline = CliProcess.Run("run", "teacher-student", "--spec", baselineSpec);
        Assert.True(baseline.ExitCode == 0, baseline.Stderr);

        var r = JsonNode.Parse(resumed.Stdout)!.AsArray();
        var b = JsonNode.Parse(baseline.Stdout)!.AsArray();
        Assert.Equal(b.Count, r.Count);
        for (int i = 0; i < b.Count; i++)
        {
            var ro = r[i]!.AsObject();
            Assert.Equal(fallback, ro["resumed_from_step"]!.GetValue<long>());
            ro.Remove("resumed_from_step");
            b[i]!.AsObject().Remove("resumed_from_step");
            // every metric, bit for bit (round-trip formatting)
            Assert.Equal(b[i]!.ToJsonString(), ro.ToJsonString());
        }
    }
}
