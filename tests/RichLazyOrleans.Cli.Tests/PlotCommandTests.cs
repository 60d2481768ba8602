using RichLazyOrleans.Engine;
using RichLazyOrleans.Results;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>Issue 16: `plot --curves` point selection and `export` without `--csv`, through the real CLI.</summary>
public class PlotCommandTests
{
    // A 3 x 3 lattice of a known field, no refinement: 9 points, quick.
    private const string Spec = """
        name: plot-options
        kind: synthetic
        params: { c0: 0.1, c1: 0.5, c2: 0.2, width: 0.05 }
        axes:
          tau:   { from: 0.1, to: 10.0, scale: log }
          delta: { from: -1.0, to: 1.0 }
        grid:   { initial: [3, 3] }
        """;

    [Fact]
    public async Task Curves_take_where_and_max_points_and_export_needs_no_csv_flag()
    {
        string dir = Directory.CreateTempSubdirectory("richlazy-plot16-").FullName;
        string spec = Path.Combine(dir, "spec.yaml");
        File.WriteAllText(spec, Spec);
        var run = CliProcess.Run("sweep", "run", spec, "--out", Path.Combine(dir, "out"), "--slots", "2");
        Assert.True(run.ExitCode == 0, run.Stderr);
        string results = Path.Combine(dir, "out");

        string png = Path.Combine(dir, "chosen.png");
        var curves = CliProcess.Run("plot", results, "--curves", "--where", "delta=0.1", "--where", "tau=2",
            "--max-points", "2", "--out", png);
        Assert.True(curves.ExitCode == 0, curves.Stderr);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png)[..4]);

        var badAxis = CliProcess.Run("plot", results, "--curves", "--where", "alpha=1");
        Assert.Equal(2, badAxis.ExitCode);
        Assert.Equal("richlazy: --where: unknown axis 'alpha' (axes: tau, delta)", badAxis.Stderr.Trim());
        var withoutCurves = CliProcess.Run("plot", results, "--where", "tau=1");   // a phase diagram draws all points
        Assert.Equal(2, withoutCurves.ExitCode);
        Assert.Contains("add --curves", withoutCurves.Stderr);
        var tooMany = CliProcess.Run("plot", results, "--curves", "--max-points", "50");
        Assert.Equal(2, tooMany.ExitCode);
        Assert.Contains("--max-points", tooMany.Stderr);

        // CSV is the default: the same file with and without --csv (older command lines keep working).
        var plain = CliProcess.Run("export", results, "--out", Path.Combine(dir, "plain.csv"));
        Assert.True(plain.ExitCode == 0, plain.Stderr);
        var flagged = CliProcess.Run("export", results, "--csv", "--out", Path.Combine(dir, "flagged.csv"));
        Assert.True(flagged.ExitCode == 0, flagged.Stderr);
        var lines = File.ReadAllLines(Path.Combine(dir, "plain.csv"));
        Assert.Equal((await ResultFiles.ReadAllAsync(results)).Count + 1, lines.Length);
        Assert.Equal(lines, File.ReadAllLines(Path.Combine(dir, "flagged.csv")));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Help_of_export_no_longer_marks_csv_required_and_plot_lists_the_curve_options()
    {
        var export = CliProcess.Run("export", "--help");
        Assert.Equal(0, export.ExitCode);
        Assert.Contains("--csv", export.Stdout);
        Assert.DoesNotContain("REQUIRED", export.Stdout, StringComparison.OrdinalIgnoreCase);
        var plot = CliProcess.Run("plot", "--help");
        Assert.Contains("--where", plot.Stdout);
        Assert.Contains("--max-points", plot.Stdout);
    }
}
