using RichLazyOrleans.Engine;
using System.Globalization;
using RichLazyOrleans.Theory;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>The README's main job: `richlazy theory phase-diagram`.</summary>
public class PhaseDiagramTests
{
    [Fact]
    public void Writes_a_csv_whose_rows_match_the_exact_solution_and_png_heatmaps()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"richlazy-pd-{Guid.NewGuid():N}");
        var r = CliProcess.Run("theory", "phase-diagram", "--out", dir, "--points", "9", "--times", "2,1e9",
            "--d", "4", "--angle", "100");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = File.ReadAllLines(Path.Combine(dir, "single-neuron-phase.csv"));
        Assert.Equal("tau,delta,alpha,t,kernel_distance,loss,a,beta_norm", lines[0]);
        Assert.Equal(1 + 9 * 9 * 2, lines.Length);
        // Spot-check rows against the library (independent evaluation of the same point).
        double theta = 100 * Math.PI / 180;
        foreach (var line in lines.Skip(1).Where((_, i) => i % 17 == 0))
        {
            var f = line.Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            double tau = f[0], delta = f[1], alpha = f[2], t = f[3];
            Assert.Equal(Initialisation.Alpha(tau, delta), alpha);
            var s = new SingleNeuronExact([1, 0, 0, 0], tau / alpha,
                [tau * alpha * Math.Cos(theta), tau * alpha * Math.Sin(theta), 0, 0]).At(t);
            Assert.Equal(s.KernelDistance, f[4]);
            Assert.Equal(s.Loss, f[5]);
        }
        foreach (var png in new[] { "kernel-distance-t2.png", "loss-t2.png", "kernel-distance-t1E09.png" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(dir, png));
            Assert.True(bytes.Length > 5000, $"{png} is suspiciously small");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
            // IHDR width/height (big-endian) = 900 x 700.
            Assert.Equal(900, (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19]);
            Assert.Equal(700, (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23]);
        }
        Assert.Empty(Directory.GetFiles(dir, "*.tmp*"));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Bad_options_exit_2_with_one_line()
    {
        var r = CliProcess.Run("theory", "phase-diagram", "--out", Path.GetTempPath(), "--tau-from", "-1");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--tau-from", r.Stderr);
        var t = CliProcess.Run("theory", "phase-diagram", "--out", Path.GetTempPath(), "--times", "1,abc");
        Assert.Equal(2, t.ExitCode);
        Assert.Contains("abc", t.Stderr);
    }
}
