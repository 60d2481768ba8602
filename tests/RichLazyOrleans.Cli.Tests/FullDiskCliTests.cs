using RichLazyOrleans.Engine;
using System.Diagnostics;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// A sweep on a full disk (a 5 MB tmpfs, as in the report) ends with the reason instead of retrying forever, and
/// leaves no state-*.bin.tmp-PID behind. Mounting needs root: elsewhere the test is reported skipped.
/// </summary>
public class FullDiskCliTests
{
    [SkippableFact]
    public void A_sweep_on_a_full_disk_ends_with_the_reason_and_leaves_no_temporary_files()
    {
        string mount = Directory.CreateTempSubdirectory("rl-full-").FullName;
        Skip.If(!Mount(mount), "cannot mount a tmpfs here (needs root); the full-disk test did not run");
        try
        {
            // Each checkpoint (m × d float64 and its init) is ~16 MB: the first one does not fit.
            string spec = Path.Combine(Directory.CreateTempSubdirectory("rl-full-spec-").FullName, "s.yaml");
            File.WriteAllText(spec, "name: full-disk\nkind: teacher-student\n"
                + "params: { delta: 0, n: 100, d: 500, m: 2000, n_test: 100, steps: 20, checkpoint_every: 5 }\n"
                + "axes:\n  tau: { from: 0.1, to: 1, scale: log }\ngrid: { initial: [2] }\n");
            var clock = Stopwatch.StartNew();
            var r = CliProcess.Run("sweep", "run", spec, "--out", Path.Combine(mount, "out"));
            Assert.Equal(1, r.ExitCode);   // finished, with failed runs
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"took {clock.Elapsed}");
            Assert.Contains("No space left on device", r.Stderr);
            Assert.Empty(Directory.EnumerateFiles(mount, "*.tmp-*", SearchOption.AllDirectories));
        }
        finally { Run("umount", mount); }
    }

    private static bool Mount(string dir) => OperatingSystem.IsLinux() && Environment.UserName == "root"
        && Run("mount", "-t", "tmpfs", "-o", "size=5m", "tmpfs", dir);

    private static bool Run(string file, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
            p.WaitForExit(10_000);
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }
}
