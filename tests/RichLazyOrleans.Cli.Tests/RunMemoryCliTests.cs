using RichLazyOrleans.Engine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// Runs are refused before they start when their memory estimate (<see cref="RunMemory"/>) exceeds what the
/// machine has: a teacher-student run with n = 10⁷ passed validation and then asked for petabytes (its tangent
/// kernel is n × n). The estimates are checked against the peak resident memory of real `richlazy run`
/// processes.
/// </summary>
public class RunMemoryCliTests
{
    [Fact]
    public void A_run_too_big_for_this_machine_is_refused_with_its_estimate()
    {
        string spec = CliProcess.SpecFile("""{ "tau": 1, "delta": 0, "n": 10000000, "d": 10, "m": 4, "steps": 1 }""");
        var r = CliProcess.Run("run", "teacher-student", "--spec", spec);
        Assert.Equal(2, r.ExitCode);
        string line = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains("needs about", line);
        Assert.Contains("TiB of memory", line);
    }

    public static TheoryData<string, string> Measured => new()
    {
        // n² float64 kernels dominate.
        {
            "teacher-student",
            """{ "tau": 1, "delta": 0, "n": 4000, "d": 100, "m": 100, "n_test": 2000, "steps": 2 }"""
        },
        // Activations of all p² pairs through the transformer.
        { "grokking", """{ "p": 97, "alpha": 1, "steps": 2 }""" },
        // One-hot inputs of 60 000 examples and their activations.
        {
            "rhm",
            """{ "v": 8, "s": 2, "L": 3, "m": 4, "n_classes": 8, "alpha": 1, "train_sizes": [50000], """
                + """ "test_size": 10000, "steps": 2 }"""
        },
    };

    [Theory, MemberData(nameof(Measured))]
    [InlineData("cnn-mnist", """{ "data_dir": "DIGITS", "alpha": 1, "steps": 2 }""")]
    public void Estimates_are_within_a_factor_of_two_of_measured_peaks(string kind, string json)
    {
        if (!OperatingSystem.IsLinux()) return;   // peak RSS from /proc
        if (json.Contains("DIGITS"))
        {
            string digits = Directory.CreateTempSubdirectory("rl-mem-digits-").FullName;
            var made = CliProcess.Run("data", "digits", "--out", digits, "--train", "10000", "--test", "2000");
            Assert.Equal(0, made.ExitCode);
            json = json.Replace("DIGITS", digits);
        }
        // What the process holds without the run's data: the same kind at tiny sizes.
        long baseline = PeakBytes("teacher-student",
            """{ "tau": 1, "delta": 0, "n": 10, "d": 5, "m": 4, "n_test": 10, "steps": 1 }""");
        long peak = PeakBytes(kind, json);
        double estimate = RunKindRegistry.Get(kind).MemoryBytes(new Spec((JsonObject)JsonNode.Parse(json)!));
        double ratio = estimate / (peak - baseline);
        Assert.True(ratio is > 0.5 and < 2, $"{kind}: estimate {RunMemory.Format(estimate)}, measured "
            + $"{RunMemory.Format(peak - baseline)} above a baseline of {RunMemory.Format(baseline)} "
            + $"(ratio {ratio:F2})");
    }

    /// <summary>VmHWM (peak resident set) of a `richlazy run` process, read from /proc while it runs.</summary>
    private static long PeakBytes(string kind, string json)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "richlazy.dll"), "run", kind, "--spec",
            CliProcess.SpecFile(json) })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        long peak = 0;
        while (!p.HasExited)
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{p.Id}/status"))
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    {
                        long kib = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
                        peak = Math.Max(peak, kib * 1024);
                    }
            }
            catch (IOException) { }   // it exited between the check and the read
            Thread.Sleep(10);
        }
        Assert.True(p.ExitCode == 0, stderr.Result);
        _ = stdout.Result;
        return peak;
    }
}
