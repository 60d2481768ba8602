using RichLazyOrleans.Engine;
using System.Diagnostics;
using System.Text.Json.Nodes;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// The deep-network kinds' saved states under a real crash: a `richlazy run` process SIGKILLed mid-run,
/// its newest state corrupted (a flipped byte), and the rerun must go on from the previous good state
/// and print exactly the rows of an uninterrupted run (teacher-student has its own test; cnn-mnist is
/// also killed inside a sweep in CnnMnistCliTests).
/// </summary>
public class ResumeAfterKillTests
{
    public static TheoryData<string, string, long> Cases => new()
    {
        // kind, spec (checkpoint_dir appended), kill once two states at or past this step exist
        {
            "grokking",
            """ "p": 7, "train_fraction": 0.5, "d_model": 8, "heads": 2, "d_mlp": 16, "steps": 6000,"""
            + """ "checkpoints": [0, 1000, 3000, 6000], "eval_every": 100, "checkpoint_every": 250 """,
            2000
        },
        // rhm states are keyed size_index·(steps + 1) + step: 6001 is the start of the second size.
        {
            "rhm",
            """ "v": 4, "s": 2, "L": 2, "m": 2, "width": 16, "steps": 6000, "train_sizes": [4, 8, 16],"""
            + """ "checkpoint_every": 250 """,
            6001
        },
        {
            "cnn-mnist",
            """ "data_dir": "DATA", "channels1": 2, "channels2": 3, "kernel": 3, "smoothness_cutoff": 0.7,"""
            + """ "batch_size": 16, "probe_size": 2, "eval_size": 100, "steps": 4000,"""
            + """ "checkpoints": [0, 2000, 4000], "checkpoint_every": 250 """,
            1000
        },
    };

    private static long StepOf(string f) => long.Parse(Path.GetFileNameWithoutExtension(f)[6..]);

    [Theory]
    [Trait("Category", "Fault")]
    [MemberData(nameof(Cases))]
    public void Killed_with_SIGKILL_and_its_newest_state_corrupted_resumes_from_the_previous_one_bit_for_bit(
        string kind, string body, long killPast)
    {
        string dir = Directory.CreateTempSubdirectory($"richlazy-kill-{kind}-").FullName;
        string data = Path.Combine(dir, "data");
        if (body.Contains("DATA"))
        {
            Directory.CreateDirectory(data);
            RichLazyOrleans.Training.SyntheticDigits.WriteIdx(data, 300, 50, 0);
            body = body.Replace("DATA", data);
        }
        string states = Path.Combine(dir, "states");
        string spec = CliProcess.SpecFile($$"""{ {{body}}, "checkpoint_dir": "{{states}}" }""");
        string baselineSpec = CliProcess.SpecFile($$"""{ {{body}}, "checkpoint_dir": "{{states}}-baseline" }""");
        try
        {
            var psi = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            foreach (var a in new[]
            {
                Path.Combine(AppContext.BaseDirectory, "richlazy.dll"), "run", kind, "--spec", spec,
            })
                psi.ArgumentList.Add(a);
            using (var victim = Process.Start(psi)!)
            try
            {
                for (var deadline = DateTime.UtcNow.AddSeconds(180);
                     !(Directory.Exists(states)
                       && Directory.GetFiles(states, "state-*.bin").Count(f => StepOf(f) >= killPast) >= 2);
                     Thread.Sleep(10))
                {
                    Assert.False(victim.HasExited, "the run finished before it could be killed; make it longer");
                    Assert.True(DateTime.UtcNow < deadline, "no states appeared in time");
                }
            }
            finally
            {
                if (!victim.HasExited) victim.Kill(entireProcessTree: true);   // SIGKILL: no chance to save anything
                victim.WaitForExit();
            }
            var saved = Directory.GetFiles(states, "state-*.bin").OrderByDescending(StepOf).ToList();
            var bytes = File.ReadAllBytes(saved[0]);
            bytes[bytes.Length / 2] ^= 0xFF;
            File.WriteAllBytes(saved[0], bytes);
            long fallback = StepOf(saved[1]);

            var resumed = CliProcess.Run("run", kind, "--spec", spec);
            Assert.True(resumed.ExitCode == 0, resumed.Stderr);
            Assert.Contains("checksum mismatch", resumed.Stderr);
            var baseline = CliProcess.Run("run", kind, "--spec", baselineSpec);
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
                Assert.Equal(b[i]!.ToJsonString(), ro.ToJsonString());   // every metric, bit for bit
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
