namespace RichLazyOrleans.Cli.Tests;

/// <summary>A sweep whose every run fails says so, instead of pointing at result files that do not exist.</summary>
public class SweepAllFailedCliTests
{
    [Fact]
    public void A_sweep_whose_runs_all_fail_says_what_happened()
    {
        string dir = Directory.CreateTempSubdirectory("richlazy-allfail-").FullName;
        string spec = Path.Combine(dir, "spec.yaml");
        File.WriteAllText(spec, """
            name: all-fail
            kind: command
            params:
              command: [sh, -c, "echo broken >&2; exit 3"]
              metrics: [value]
            axes:
              lr: { from: 0.1, to: 1.0 }
            seeds: [0]
            grid: { initial: [3] }
            """);
        var r = CliProcess.Run("sweep", "run", spec, "--out", Path.Combine(dir, "out"));
        Assert.Contains("results: none: all 3 run(s) failed", r.Stdout);
        Assert.DoesNotContain("*.parquet", r.Stdout);
        Assert.Contains("exit code 3; stderr: broken", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(dir, "out", "runs"))
            && Directory.EnumerateFiles(Path.Combine(dir, "out", "runs")).Any());
    }
}
